"""An in-memory copy of the place tree, so locating a point costs no query per commune.

Each process keeps one index per database, labelled with its ``places_version``
(``ioc.core.refdata``): every change to places stamps a new version in the same transaction,
and the next lookup that reads a different version rebuilds the index. Reading that version
is the only query a lookup makes. Boundaries are not copied: ``has_boundaries`` tells callers
to take the boundary-aware path in ``ioc.core.places`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import cos, radians
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core import refdata
from ioc.core.models import PLACE_LEVELS, Place

METRES_PER_DEGREE = 111_320

Box = tuple[float, float, float, float]  # min_lat, max_lat, min_lon, max_lon


class PlaceRef(Protocol):
    """What routing needs of a place: an ORM ``Place`` or an :class:`IndexedPlace`."""

    @property
    def code(self) -> str: ...

    @property
    def level(self) -> str: ...

    @property
    def parent_code(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class IndexedPlace:
    """A place's code, position in the tree, centroid and bounding box."""

    code: str
    level: str
    parent_code: str | None
    path: str
    lat: float | None
    lon: float | None
    box: Box | None

    def holds(self, lat: float, lon: float) -> bool:
        box = self.box
        return box is not None and box[0] <= lat <= box[1] and box[2] <= lon <= box[3]


def _nearest(places: Iterable[IndexedPlace], lat: float, lon: float) -> IndexedPlace | None:
    """The place whose centroid is closest (equirectangular: fine at a province's scale)."""
    k = cos(radians(lat))
    best: IndexedPlace | None = None
    best_d = 0.0
    for p in places:
        if p.lat is None or p.lon is None:
            continue
        d = (p.lat - lat) ** 2 + ((p.lon - lon) * k) ** 2
        if best is None or d < best_d:
            best, best_d = p, d
    return best


class PlaceIndex:
    """Every place of one database at one ``places_version``; immutable once built."""

    def __init__(self, places: Iterable[IndexedPlace], has_boundaries: bool) -> None:
        self.has_boundaries = has_boundaries
        self.places = {p.code: p for p in places}
        self.by_level: dict[str, tuple[IndexedPlace, ...]] = {
            level: tuple(p for p in self.places.values() if p.level == level)
            for level in PLACE_LEVELS
        }
        self._boxes = {
            level: tuple(p.box for p in self.by_level[level] if p.box is not None)
            for level in PLACE_LEVELS
        }

    def get(self, code: str | None) -> IndexedPlace | None:
        return self.places.get(code) if code is not None else None

    def ancestor(self, place: IndexedPlace, level: str) -> IndexedPlace | None:
        """``place`` itself or the place of ``level`` on its path."""
        if place.level == level:
            return place
        for code in place.path.split("/"):
            found = self.places.get(code)
            if found is not None and found.level == level:
                return found
        return None

    def near_a_box(self, level: str, lat: float, lon: float, margin_m: float) -> bool:
        """Inside, or within ``margin_m`` of, some ``level`` place's box; True when none has one."""
        boxes = self._boxes[level]
        if not boxes:
            return True
        margin_lat = margin_m / METRES_PER_DEGREE
        margin_lon = margin_lat / max(cos(radians(lat)), 0.01)
        return any(
            s - margin_lat <= lat <= n + margin_lat and w - margin_lon <= lon <= e + margin_lon
            for s, n, w, e in boxes
        )

    def locate(self, lat: float, lon: float, level: str) -> IndexedPlace | None:
        """As :func:`ioc.core.places.locate` does by bounding boxes (no boundary is loaded)."""
        # The finest level tells a district too: its communes' boxes are tighter than its own.
        for finer in reversed(PLACE_LEVELS[PLACE_LEVELS.index(level) :]):
            hit = _nearest((p for p in self.by_level[finer] if p.holds(lat, lon)), lat, lon)
            if hit is not None:
                return self.ancestor(hit, level)
        around = [p for p in self.by_level["province"] if p.box is None or p.holds(lat, lon)]
        if not around:
            return None
        codes = {p.code for p in around}
        prefixes = tuple(p.path + "/" for p in around)
        inside = (p for p in self.by_level[level] if p.code in codes or p.path.startswith(prefixes))
        return _nearest(inside, lat, lon)


def _box(row: Any) -> Box | None:
    corners = (row.min_lat, row.max_lat, row.min_lon, row.max_lon)
    if any(c is None for c in corners):
        return None
    return corners


def build(session: Session) -> PlaceIndex:
    """Read every place (without boundaries) into a new index."""
    c = Place
    columns = (c.code, c.level, c.parent_code, c.path, c.lat, c.lon)
    rows = session.execute(
        select(*columns, c.min_lat, c.max_lat, c.min_lon, c.max_lon).order_by(c.code)
    )
    places = [
        IndexedPlace(r.code, r.level, r.parent_code, r.path, r.lat, r.lon, _box(r)) for r in rows
    ]
    bounded = session.scalar(select(c.code).where(c.boundary.is_not(None)).limit(1))
    return PlaceIndex(places, bounded is not None)


_INDEX = refdata.Cache(Place.__refdata__, build)


def current(session: Session, known: refdata.Versions | None = None) -> PlaceIndex:
    """The index for the session's database, rebuilt if its places changed since it was built."""
    return _INDEX.get(session, known)
