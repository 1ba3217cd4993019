"""Land parcels (iLIS): create, transfer, change of use, split, merge; every state kept.

A parcel row holds the current state; each change adds a :class:`ParcelChange` with the full
state it produced, so the history of a parcel replays from its first row and no earlier
state is lost. A split or merge retires its source parcels (status "retired", geometry kept)
and names the parcels on either side in ``related``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioc.core import events
from ioc.core.db import utcnow
from ioc.core.models import Place
from ioc.core.problems import Conflict, Invalid, NotFound
from ioc.gis import geometry as geo
from ioc.gis.landuse import check_code
from ioc.gis.models import LandParcel, ParcelChange, PlanningZone

GEOD = Geod(ellps="WGS84")
HOLDER_FIELDS = ("holder_name", "holder_id", "holder_kind", "certificate_no", "certificate_date")
STATE_FIELDS = (
    "key", "commune_code", "sheet_no", "parcel_no", "area_m2", "land_use", "zone_code",
    *HOLDER_FIELDS, "status", "version",
)  # fmt: skip


@dataclass
class Holder:
    """A land-use right holder and the certificate (sổ đỏ) that names them."""

    name: str | None = None
    id: str | None = None
    kind: str | None = None  # individual, household, organisation
    certificate_no: str | None = None
    certificate_date: dt.date | None = None


def parcel_key(commune_code: str, sheet_no: int, parcel_no: int) -> str:
    """'<commune>-<map sheet>-<parcel number>', e.g. '04615-12-348'."""
    return f"{commune_code}-{sheet_no}-{parcel_no}"


def area_m2(shape: BaseGeometry) -> float:
    """Geodesic area on the WGS 84 ellipsoid, in square metres."""
    area, _ = GEOD.geometry_area_perimeter(shape)
    return round(abs(area), 1)


def zone_at(session: Session, shape: BaseGeometry) -> str | None:
    """The planning zone holding the parcel's representative point."""
    point = shape.representative_point()
    z = PlanningZone
    rows = session.execute(
        select(z.code, z.geometry)
        .where(
            z.min_lon <= point.x, z.max_lon >= point.x, z.min_lat <= point.y, z.max_lat >= point.y
        )
        .order_by(z.code)
    )
    for code, text in rows:
        zone = geo.from_json(text)
        if zone is not None and zone.covers(point):
            return str(code)
    return None


def state(parcel: LandParcel) -> dict[str, Any]:
    """Everything a parcel is now, geometry included, as JSON."""
    out: dict[str, Any] = {name: getattr(parcel, name) for name in STATE_FIELDS}
    if out["certificate_date"] is not None:
        out["certificate_date"] = out["certificate_date"].isoformat()
    shape = geo.from_json(parcel.geometry)
    out["geometry"] = shape.__geo_interface__ if shape is not None else None
    return out


def _record(
    session: Session, parcel: LandParcel, change: str, related: list[str], note: str
) -> None:
    session.flush()
    session.add(
        ParcelChange(
            parcel_key=parcel.key,
            version=parcel.version,
            change=change,
            at=utcnow(),
            actor=str(session.info.get("actor", "system")),
            related=related,
            note=note,
            state=geo.jsonable(state(parcel)),
        )
    )
    events.emit(
        session,
        f"parcel.{change}",
        {
            "key": parcel.key,
            "version": parcel.version,
            "land_use": parcel.land_use,
            "related": related,
        },
        subject=parcel.key,
        place_code=parcel.commune_code,
    )


def _shape(value: dict[str, Any] | BaseGeometry, field: str) -> BaseGeometry:
    try:
        shape = value if isinstance(value, BaseGeometry) else geo.from_json(value)
    except Exception:
        raise Invalid(field, "not a GeoJSON geometry") from None
    why = geo.problem(shape)
    if why is None and shape is not None and shape.geom_type not in ("Polygon", "MultiPolygon"):
        why = f"a parcel is a polygon, not a {shape.geom_type}"
    if why is not None:
        raise Invalid(field, why)
    assert shape is not None
    return shape


def create(
    session: Session,
    commune_code: str,
    sheet_no: int,
    parcel_no: int,
    land_use: str,
    geometry: dict[str, Any] | BaseGeometry,
    holder: Holder | None = None,
    *,
    change: str = "created",
    related: list[str] | None = None,
    note: str = "",
) -> LandParcel:
    """A new parcel; its area and planning zone come from its geometry."""
    place = session.get(Place, commune_code)
    if place is None or place.level != "commune":
        raise Invalid("commune_code", f"{commune_code!r} is not a commune of this database")
    if sheet_no < 1 or parcel_no < 1:
        raise Invalid("sheet_no" if sheet_no < 1 else "parcel_no", "numbers start at 1")
    key = parcel_key(commune_code, sheet_no, parcel_no)
    if session.scalar(select(LandParcel.id).where(LandParcel.key == key)) is not None:
        raise Conflict(f"parcel {key} exists (map sheet {sheet_no}, parcel {parcel_no})")
    shape = _shape(geometry, "geometry")
    holder = holder or Holder()
    parcel = LandParcel(
        key=key,
        commune_code=commune_code,
        sheet_no=sheet_no,
        parcel_no=parcel_no,
        area_m2=area_m2(shape),
        land_use=check_code(land_use),
        zone_code=zone_at(session, shape),
        holder_name=holder.name,
        holder_id=holder.id,
        holder_kind=holder.kind,
        certificate_no=holder.certificate_no,
        certificate_date=holder.certificate_date,
        status="active",
        version=1,
        geometry=geo.to_text(shape),
    )
    parcel.min_lon, parcel.min_lat, parcel.max_lon, parcel.max_lat = geo.bounds(shape)
    session.add(parcel)
    _record(session, parcel, change, related or [], note)
    return parcel


def get(session: Session, key: str, *, active: bool = True) -> LandParcel:
    parcel = session.scalar(select(LandParcel).where(LandParcel.key == key))
    if parcel is None:
        raise NotFound(f"no parcel {key!r}")
    if active and parcel.status != "active":
        raise Conflict(f"parcel {key} was retired (split or merged); see its history")
    return parcel


def transfer(session: Session, key: str, holder: Holder, note: str = "") -> LandParcel:
    """A new right holder (sale, gift, inheritance) with their certificate."""
    parcel = get(session, key)
    if not holder.name or not holder.id:
        raise Invalid("holder", "a transfer names the new holder and their id number")
    parcel.holder_name, parcel.holder_id, parcel.holder_kind = holder.name, holder.id, holder.kind
    parcel.certificate_no, parcel.certificate_date = holder.certificate_no, holder.certificate_date
    parcel.version += 1
    _record(session, parcel, "transfer", [], note)
    return parcel


def change_use(session: Session, key: str, land_use: str, note: str = "") -> LandParcel:
    """A permitted change of land use (chuyển mục đích sử dụng đất)."""
    parcel = get(session, key)
    code = check_code(land_use)
    if code == parcel.land_use:
        raise Invalid("land_use", f"the parcel is already {code}")
    parcel.land_use = code
    parcel.version += 1
    _record(session, parcel, "change_of_use", [], note)
    return parcel


def _retire(
    session: Session, parcel: LandParcel, change: str, related: list[str], note: str
) -> None:
    parcel.status = "retired"
    parcel.version += 1
    _record(session, parcel, change, related, note)


def split(
    session: Session, key: str, parts: list[dict[str, Any]], first_number: int, note: str = ""
) -> list[LandParcel]:
    """Split a parcel into ``parts`` (polygons that must cover it without overlap)."""
    source = get(session, key)
    if len(parts) < 2:
        raise Invalid("parts", "a split makes at least two parcels")
    shapes = [_shape(p, f"parts[{i}]") for i, p in enumerate(parts)]
    whole = geo.from_json(source.geometry)
    assert whole is not None
    union = shapely.union_all(shapes)
    if (
        abs(union.area - whole.area) > whole.area * 1e-6
        or abs(sum(s.area for s in shapes) - whole.area) > whole.area * 1e-6
    ):
        raise Invalid("parts", "the parts must cover the parcel exactly, without overlapping")
    holder = Holder(source.holder_name, source.holder_id, source.holder_kind)
    keys = [
        parcel_key(source.commune_code, source.sheet_no, first_number + i)
        for i in range(len(shapes))
    ]
    _retire(session, source, "split", keys, note)
    return [
        create(
            session, source.commune_code, source.sheet_no, first_number + i, source.land_use,
            shape, holder, change="split", related=[source.key], note=note,
        )
        for i, shape in enumerate(shapes)
    ]  # fmt: skip


def merge(session: Session, keys: list[str], parcel_no: int, note: str = "") -> LandParcel:
    """Merge adjacent parcels of one commune, map sheet, holder and land use into a new one."""
    if len(set(keys)) < 2:
        raise Invalid("keys", "a merge takes at least two different parcels")
    sources = [get(session, k) for k in keys]
    first = sources[0]
    for s in sources[1:]:
        for name in ("commune_code", "sheet_no", "holder_id", "land_use"):
            if getattr(s, name) != getattr(first, name):
                raise Invalid("keys", f"parcels to merge share their {name}; {s.key} differs")
    shapes = [geo.from_json(s.geometry) for s in sources]
    union = shapely.union_all(shapes)
    if union.geom_type != "Polygon":
        raise Invalid("keys", "the parcels do not form one piece of land")
    new_key = parcel_key(first.commune_code, first.sheet_no, parcel_no)
    for s in sources:
        _retire(session, s, "merge", [new_key], note)
    holder = Holder(first.holder_name, first.holder_id, first.holder_kind)
    return create(
        session, first.commune_code, first.sheet_no, parcel_no, first.land_use, union, holder,
        change="merge", related=[s.key for s in sources], note=note,
    )  # fmt: skip


def history(session: Session, key: str) -> list[ParcelChange]:
    """Every state of a parcel, oldest first."""
    get(session, key, active=False)
    stmt = select(ParcelChange).where(ParcelChange.parcel_key == key).order_by(ParcelChange.version)
    return list(session.scalars(stmt))


def statistics(session: Session, communes: list[str] | None = None) -> list[dict[str, Any]]:
    """Count and area of active parcels by commune and land-use type."""
    p = LandParcel
    stmt = (
        select(p.commune_code, p.land_use, func.count(), func.sum(p.area_m2))
        .where(p.status == "active")
        .group_by(p.commune_code, p.land_use)
        .order_by(p.commune_code, p.land_use)
    )
    if communes is not None:
        stmt = stmt.where(p.commune_code.in_(communes))
    return [
        {"commune_code": c, "land_use": u, "parcels": n, "area_m2": round(float(a or 0), 1)}
        for c, u, n, a in session.execute(stmt)
    ]


def conflicts(session: Session) -> list[tuple[LandParcel, PlanningZone]]:
    """Active parcels whose land use the plan of their zone does not allow."""
    out: list[tuple[LandParcel, PlanningZone]] = []
    for zone in session.scalars(select(PlanningZone).order_by(PlanningZone.code)):
        stmt = select(LandParcel).where(
            LandParcel.zone_code == zone.code,
            LandParcel.status == "active",
            LandParcel.land_use.not_in(zone.allowed_uses or ["-"]),
        )
        out.extend((parcel, zone) for parcel in session.scalars(stmt.order_by(LandParcel.id)))
    return out
