"""Places: load a province's administrative units from the GSO dataset, then find and locate."""

from __future__ import annotations

import difflib
import importlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from math import cos, radians
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Select, and_, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ioc.core import place_index, refdata
from ioc.core.models import PLACE_LEVELS, Meta, Place
from ioc.core.problems import Conflict, Invalid, NotFound
from ioc.core.text import fold, search_key

TREES = ("legacy", "2025")
TREE_META_KEY = "place_tree"
_TABLES = {"legacy": "admin_units_legacy", "2025": "admin_units"}
_KINDS = {
    "province": ("Thành phố", "Tỉnh"),
    "district": ("Thành phố", "Thị xã", "Quận", "Huyện"),
    "commune": ("Thị trấn", "Đặc khu", "Phường", "Xã"),
}
_RANK = case({level: i for i, level in enumerate(PLACE_LEVELS)}, value=Place.level)
_CHUNK = 500

Progress = Callable[[int, int], None]
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProvinceInfo:
    """A province as the dataset names it, whether or not it is loaded."""

    code: str
    name: str
    short_name: str
    tree: str
    key: str  # the dataset's ascii key, e.g. "tinhhoabinh"

    @property
    def kind(self) -> str:
        return _kind_and_name("province", self.name, "Tỉnh")[0]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load found in the dataset (by level) and what it had to write."""

    province: ProvinceInfo
    counts: dict[str, int]
    inserted: int
    updated: int

    @property
    def unchanged(self) -> int:
        return sum(self.counts.values()) - self.inserted - self.updated

    def summary(self) -> str:
        """'1 province, 10 districts, 151 communes'."""
        return ", ".join(
            f"{n} {level}{'' if n == 1 else 's'}" for level, n in self.counts.items() if n
        )


# --- the dataset -------------------------------------------------------------------------------


@cache
def _data_dir() -> Path:
    """vietnamadminunits' data folder, found without importing it (its import parses 4 MB)."""
    spec = find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@contextmanager
def _dataset() -> Iterator[sqlite3.Connection]:
    """The read-only SQLite file shipped with vietnamadminunits."""
    conn = sqlite3.connect(f"{(_data_dir() / 'dataset.db').as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def _check_tree(tree: str) -> None:
    if tree not in TREES:
        raise Invalid("tree", f"must be one of {', '.join(TREES)}, not {tree!r}")


def _compact(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(s))


@cache
def _catalogue(tree: str) -> tuple[tuple[ProvinceInfo, frozenset[str]], ...]:
    """Every province of ``tree`` with the compact keys that name it (full, short, aliases)."""
    sql = (
        "SELECT DISTINCT provinceCode, province, provinceShort, provinceKey, provinceShortKey,"
        f" provinceAlias FROM {_TABLES[tree]} ORDER BY provinceCode"
    )
    with _dataset() as conn:
        rows = conn.execute(sql).fetchall()
    out = []
    for code, name, short, key, short_key, alias in rows:
        keys = {key, short_key, _compact(name), _compact(short), *json.loads(alias or "[]")}
        out.append((ProvinceInfo(code, name, short, tree, key), frozenset(keys)))
    return tuple(out)


@cache
def _merged_into_keys() -> dict[str, tuple[str, ...]]:
    """Legacy province key → the 2025 province keys it became part of (converter data)."""
    text = (_data_dir() / "converter_2025.json").read_text("utf-8")
    mapping: dict[str, list[str]] = json.loads(text)["DICT_PROVINCE"]
    merged: dict[str, list[str]] = {}
    for new_key, old_keys in mapping.items():
        for old_key in old_keys:
            merged.setdefault(old_key, []).append(new_key)
    return {old: tuple(new) for old, new in merged.items()}


def list_provinces(tree: str) -> list[ProvinceInfo]:
    """The provinces a database of ``tree`` can load, by code."""
    _check_tree(tree)
    return [info for info, _ in _catalogue(tree)]


def _match(name_or_code: str, tree: str) -> ProvinceInfo | None:
    raw = name_or_code.strip()
    if raw.isdigit():
        return next((p for p, _ in _catalogue(tree) if p.code == raw.zfill(2)), None)
    compact = _compact(raw)
    wanted = {compact} | {compact.removeprefix(p) for p in ("tinh", "thanhpho", "tp")}
    return next((p for p, keys in _catalogue(tree) if wanted & keys), None)


def resolve_province(name_or_code: str, tree: str) -> ProvinceInfo:
    """The province meant by a name in any spelling or a GSO code, or an error that helps."""
    _check_tree(tree)
    found = _match(name_or_code, tree)
    if found is not None:
        return found
    old = _match(name_or_code, "legacy") if tree == "2025" else None
    if old is not None:
        by_key = {p.key: p for p in list_provinces("2025")}
        new = [by_key[k] for k in _merged_into_keys().get(old.key, ()) if k in by_key]
        into = ", ".join(f"{p.name} (code {p.code})" for p in new) or "no province we know of"
        raise Invalid(
            "province",
            f"{old.name} (legacy code {old.code}) is not a province in the 2025 tree: "
            f"in 2025 it merged into {into}; load that, or use the legacy tree",
        )
    names = {fold(p.short_name): p.short_name for p in list_provinces(tree)}
    close = difflib.get_close_matches(fold(name_or_code), list(names), n=5, cutoff=0.6)
    if close:
        hint = f"did you mean: {', '.join(names[c] for c in close)}?"
    else:
        hint = f"give one of its {len(names)} province names or GSO codes"
    raise Invalid("province", f"no province {name_or_code!r} in the {tree} tree; {hint}")


# --- building rows ------------------------------------------------------------------------------


def _kind_and_name(level: str, name: str, fallback: str) -> tuple[str, str]:
    """The unit type from the full name's prefix (the dataset's type column has a few slips)."""
    for kind in _KINDS[level]:
        if name.lower().startswith(kind.lower() + " "):
            return kind, kind + name[len(kind) :]
    return fallback, name


def _bbox(bounds: str | None) -> dict[str, float | None]:
    """``"lat,lon – lat,lon"`` as min/max columns; all None when the dataset gives none."""
    if not bounds:
        return dict.fromkeys(("min_lon", "min_lat", "max_lon", "max_lat"))
    (lat1, lon1), (lat2, lon2) = (
        map(float, corner.split(",")) for corner in re.split(r"\s+[–-]\s+", bounds.strip())
    )
    return {
        "min_lon": min(lon1, lon2),
        "min_lat": min(lat1, lat2),
        "max_lon": max(lon1, lon2),
        "max_lat": max(lat1, lat2),
    }


def _unit(tree: str, level: str, u: sqlite3.Row, prefix: str, parent: Row | None) -> Row:
    """One place from a dataset row's ``province*``, ``district*`` or ``ward*`` columns."""
    columns = u.keys()

    def get(suffix: str) -> Any:
        return u[prefix + suffix] if prefix + suffix in columns else None

    code = u[prefix + "Code"]
    kind, name = _kind_and_name(level, u[prefix], get("Type") or "")
    return {
        "code": code,
        "tree": tree,
        "level": level,
        "kind": kind,
        "name": name,
        "short_name": get("Short"),
        "search_key": search_key(name, get("Short"), kind),
        "parent_code": parent["code"] if parent else None,
        "path": f"{parent['path']}/{code}" if parent else code,
        "lat": get("Lat"),
        "lon": get("Lon"),
        **_bbox(get("Bounds")),
        "area_km2": get("AreaKm2"),
    }


def _rows(info: ProvinceInfo) -> list[Row]:
    """The province, its districts and its communes, each parent before its children."""
    order = "districtCode, wardCode" if info.tree == "legacy" else "wardCode"
    sql = f"SELECT * FROM {_TABLES[info.tree]} WHERE provinceCode = ? ORDER BY {order}"
    with _dataset() as conn:
        units = conn.execute(sql, (info.code,)).fetchall()
    province = _unit(info.tree, "province", units[0], "province", None)
    rows = {province["code"]: province}  # GSO codes have 2, 3 and 5 digits: unique across levels
    for u in units:
        parent = province
        if info.tree == "legacy":
            district = rows.get(u["districtCode"])
            parent = district or _unit("legacy", "district", u, "district", province)
            rows[parent["code"]] = parent
        if u["wardCode"]:  # island districts have no communes
            ward = _unit(info.tree, "commune", u, "ward", parent)
            rows[ward["code"]] = ward
    return list(rows.values())


# --- loading ------------------------------------------------------------------------------------


def _claim_tree(session: Session, tree: str) -> None:
    """Refuse to mix trees: the same GSO code means different units in each."""
    meta = session.get(Meta, TREE_META_KEY)
    other = select(Place.tree).where(Place.tree != tree).limit(1)
    held = meta.value if meta else session.scalar(other)
    if held and held != tree:
        raise Conflict(
            f"this database holds the {held} place tree; the {tree} tree cannot be added to it "
            f"(the same codes name different units) — use a separate database for {tree}"
        )
    if meta is None:
        session.add(Meta(key=TREE_META_KEY, value=tree))
        session.flush()


def load_province(
    session: Session, name_or_code: str, tree: str = "legacy", progress: Progress | None = None
) -> LoadResult:
    """Insert or update one province's places; running it again writes nothing."""
    info = resolve_province(name_or_code, tree)
    _claim_tree(session, tree)
    rows = _rows(info)
    columns = [Place.__table__.c[name] for name in rows[0]]
    inserted = updated = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        codes = [row["code"] for row in chunk]
        found = session.execute(select(*columns).where(Place.code.in_(codes)))
        stored = {r.code: r._mapping for r in found}
        new = [row for row in chunk if row["code"] not in stored]
        changed = [
            {"code": row["code"], **diff}
            for row in chunk
            if row["code"] in stored
            and (diff := {k: v for k, v in row.items() if stored[row["code"]][k] != v})
        ]
        if new:
            session.execute(insert(Place), new)
        if changed:
            session.execute(update(Place), changed)
        inserted, updated = inserted + len(new), updated + len(changed)
        if progress is not None:
            progress(start + len(chunk), len(rows))
    if inserted or updated:  # bulk writes bypass the ORM hook that stamps a version
        refdata.bump(session, Place.__refdata__)
    counts = {level: sum(row["level"] == level for row in rows) for level in PLACE_LEVELS}
    return LoadResult(info, counts, inserted, updated)


# --- queries ------------------------------------------------------------------------------------


def get_place(session: Session, code: str) -> Place:
    """The place with this GSO code."""
    place = session.get(Place, code)
    if place is None:
        raise NotFound(f"no place with code {code!r} in this database; is its province loaded?")
    return place


def children(session: Session, code: str) -> list[Place]:
    """The places one level below ``code``, by code."""
    get_place(session, code)
    stmt = select(Place).where(Place.parent_code == code).order_by(Place.code)
    return list(session.scalars(stmt))


def _check_level(level: str) -> None:
    if level not in PLACE_LEVELS:
        raise Invalid("level", f"must be one of {', '.join(PLACE_LEVELS)}, not {level!r}")


def search_places(
    session: Session,
    q: str | None = None,
    level: str | None = None,
    parent: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Place], int]:
    """A page of places matching ``q`` in any spelling, anywhere under ``parent``; and a total."""
    if limit < 0 or offset < 0:
        raise Invalid("limit" if limit < 0 else "offset", "must not be negative")
    where = []
    if level is not None:
        _check_level(level)
        where.append(Place.level == level)
    if parent is not None:
        anchor = session.get(Place, parent)
        if anchor is None:
            raise Invalid("parent", f"no place with code {parent!r} in this database")
        where.append(Place.path.startswith(anchor.path + "/", autoescape=True))
    folded = fold(q or "")
    if folded:
        where.append(or_(Place.search_key.contains(folded, autoescape=True), Place.code == folded))
    total = session.scalar(select(func.count()).select_from(Place).where(*where)) or 0
    stmt = select(Place).where(*where).order_by(_RANK, Place.code).limit(limit).offset(offset)
    return list(session.scalars(stmt)), total


def subtree_codes_stmt(code: str) -> Select[str]:
    """The codes of ``code`` and everything below it, for ``IN (...)`` scope filters."""
    root_path = select(Place.path).where(Place.code == code).scalar_subquery()
    return select(Place.code).where(or_(Place.code == code, Place.path.startswith(root_path + "/")))


def is_within(session: Session, code: str, ancestor_code: str) -> bool:
    """Whether ``code`` is ``ancestor_code`` or lies below it; unknown codes are within nothing."""
    path = session.scalar(select(Place.path).where(Place.code == code))
    return path is not None and ancestor_code in path.split("/")


# --- locating a point ---------------------------------------------------------------------------


@cache
def _shapely() -> ModuleType | None:
    """shapely.geometry when installed; boundaries are only tested with it (optional dependency)."""
    try:
        return importlib.import_module("shapely.geometry")
    except ImportError:
        return None


def _in_bbox(p: Place, lat: float, lon: float) -> bool:
    if p.min_lat is None or p.max_lat is None or p.min_lon is None or p.max_lon is None:
        return False
    return p.min_lat <= lat <= p.max_lat and p.min_lon <= lon <= p.max_lon


def _nearest(places: Sequence[Place], lat: float, lon: float) -> Place | None:
    """The place whose centroid is closest (equirectangular: fine at a province's scale)."""
    k = cos(radians(lat))

    def dist2(p: Place) -> float:
        assert p.lat is not None and p.lon is not None
        return (p.lat - lat) ** 2 + ((p.lon - lon) * k) ** 2

    located = [p for p in places if p.lat is not None and p.lon is not None]
    return min(located, key=dist2) if located else None


def _containing(session: Session, lat: float, lon: float, level: str) -> Place | None:
    """The ``level`` place whose boundary (or else bounding box) holds the point."""
    in_bbox = and_(
        Place.min_lat <= lat, Place.max_lat >= lat, Place.min_lon <= lon, Place.max_lon >= lon
    )
    with_boundary = and_(Place.boundary.is_not(None), Place.min_lat.is_(None))
    stmt = select(Place).where(Place.level == level, or_(in_bbox, with_boundary))
    places = list(session.scalars(stmt))
    geometry = _shapely()
    if geometry is not None:
        point = geometry.Point(lon, lat)
        inside = [p for p in places if p.boundary and geometry.shape(p.boundary).covers(point)]
        if inside:
            return _nearest(inside, lat, lon)
        places = [p for p in places if not p.boundary]  # a boundary that misses is definitive
    return _nearest([p for p in places if _in_bbox(p, lat, lon)], lat, lon)


def _ancestor(session: Session, place: Place, level: str) -> Place | None:
    if place.level == level:
        return place
    stmt = select(Place).where(Place.code.in_(place.path.split("/")), Place.level == level)
    return session.scalars(stmt).first()


def locate(session: Session, lat: float, lon: float, level: str = "commune") -> Place | None:
    """The ``level`` place holding the point, or None when it is outside every loaded province."""
    _check_level(level)
    index = place_index.current(session)
    if not index.has_boundaries:  # boxes and centroids only: the in-memory index answers
        hit = index.locate(lat, lon, level)
        return session.get(Place, hit.code) if hit is not None else None
    return _locate_by_boundary(session, lat, lon, level)


def _locate_by_boundary(session: Session, lat: float, lon: float, level: str) -> Place | None:
    """``locate`` once some place has a boundary: boundaries decide, boxes fill the gaps."""
    # The finest level tells a district too: its communes' boxes are tighter than its own.
    for finer in reversed(PLACE_LEVELS[PLACE_LEVELS.index(level) :]):
        hit = _containing(session, lat, lon, finer)
        if hit is not None:
            return _ancestor(session, hit, level)
    provinces = session.scalars(select(Place).where(Place.level == "province")).all()
    around = [p for p in provinces if p.min_lat is None or _in_bbox(p, lat, lon)]
    if not around:
        return None
    inside = or_(
        Place.code.in_([p.code for p in around]),
        *(Place.path.startswith(p.path + "/") for p in around),
    )
    stmt = select(Place).where(Place.level == level, inside)
    return _nearest(session.scalars(stmt).all(), lat, lon)
