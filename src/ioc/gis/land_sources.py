"""Land parcels and planning zones as OGC API collections; holders only for whom may see them."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ioc.core import place_index
from ioc.core.auth import Principal
from ioc.core.problems import NotFound
from ioc.gis import spatial
from ioc.gis.collections import Extent, Feature, feature, interval_clauses
from ioc.gis.landuse import LAND_USES, may_see_holders
from ioc.gis.models import PARCELS, ZONES, LandParcel, PlanningZone
from ioc.gis.query import ItemsQuery

_P = LandParcel
PARCEL_COLUMNS = (
    _P.id, _P.key, _P.commune_code, _P.sheet_no, _P.parcel_no, _P.area_m2, _P.land_use,
    _P.zone_code, _P.status, _P.version, _P.updated_at, _P.geometry, _P.holder_name,
    _P.holder_id, _P.holder_kind, _P.certificate_no, _P.certificate_date,
)  # fmt: skip


def _column_filters(
    model: Any, query: ItemsQuery, kinds: dict[str, str]
) -> list[ColumnElement[bool]]:
    out = []
    for name, value in query.filters.items():
        column = getattr(model, name)
        out.append(
            column
            == (
                int(float(value))
                if kinds[name] == "integer"
                else float(value)
                if kinds[name] == "number"
                else value
            )
        )
    return out


class HolderView:
    """Which parcels' holder fields a caller sees: by role, then by place scope (in memory)."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.allowed = may_see_holders(principal)
        self.root = principal.scope.place_path
        self.index = place_index.current(session) if self.allowed and self.root else None

    def sees(self, commune_code: str) -> bool:
        if not self.allowed:
            return False
        if self.root is None:
            return True
        assert self.index is not None
        place = self.index.get(commune_code)
        return place is not None and (
            place.path == self.root or place.path.startswith(self.root + "/")
        )


_NAMES = {code: names[0] for code, names in LAND_USES.items()}


def parcel_feature(row: Any, view: HolderView) -> Feature:
    """A parcel as GeoJSON (rows of PARCEL_COLUMNS, unpacked by position: pages are large)."""
    (_, key, commune, sheet, number, area, use, zone, status, version, updated, geometry,
     holder, holder_id, holder_kind, certificate, certificate_date) = row  # fmt: skip
    properties: dict[str, Any] = {
        "key": key, "commune_code": commune, "sheet_no": sheet, "parcel_no": number,
        "area_m2": area, "land_use": use, "land_use_name": _NAMES.get(use, ""),
        "zone_code": zone, "status": status, "version": version,
        "updated_at": updated.isoformat(),
    }  # fmt: skip
    if view.sees(commune):
        properties.update(
            holder_name=holder, holder_id=holder_id, holder_kind=holder_kind,
            certificate_no=certificate,
            certificate_date=certificate_date.isoformat() if certificate_date else None,
        )  # fmt: skip
    return {
        "type": "Feature",
        "id": key,
        "geometry": orjson.Fragment(geometry) if geometry is not None else None,
        "properties": properties,
    }


class ParcelSource:
    id = "parcels"
    title = "Land parcels (iLIS)"
    description = (
        "Cadastral parcels: map sheet, parcel number, commune, area, land-use code, planning "
        "zone. Holders and certificates are shown only to authorised users inside their scope."
    )
    queryables = {
        "key": "string", "commune_code": "string", "sheet_no": "integer", "parcel_no": "integer",
        "land_use": "string", "zone_code": "string", "status": "string",
    }  # fmt: skip

    def extent(self, session: Session) -> Extent:
        from sqlalchemy import func

        row = session.execute(
            select(
                func.min(_P.min_lon),
                func.min(_P.min_lat),
                func.max(_P.max_lon),
                func.max(_P.max_lat),
            )
        ).one()
        return Extent(None if row[0] is None else tuple(row))  # type: ignore[arg-type]

    def items(
        self, session: Session, principal: Principal, query: ItemsQuery
    ) -> tuple[list[Feature], int]:
        where = [
            *interval_clauses(_P.updated_at, query.interval),
            *_column_filters(_P, query, self.queryables),
        ]
        page = spatial.page(
            session, PARCELS, PARCEL_COLUMNS, where, query.limit, query.offset, query.bbox
        )
        view = HolderView(session, principal)
        return [parcel_feature(r, view) for r in page.rows], page.matched

    def item(self, session: Session, principal: Principal, fid: str) -> Feature:
        row = session.execute(select(*PARCEL_COLUMNS).where(_P.key == fid)).first()
        if row is None:
            raise NotFound(f"no parcel {fid!r}")
        return parcel_feature(row, HolderView(session, principal))


class ZoneSource:
    id = "planning-zones"
    title = "Planning zones"
    description = "Zones of the approved land-use plan with the land-use codes each allows."
    queryables = {"designation": "string", "place_code": "string", "code": "string"}

    def extent(self, session: Session) -> Extent:
        from sqlalchemy import func

        z = PlanningZone
        row = session.execute(
            select(
                func.min(z.min_lon), func.min(z.min_lat), func.max(z.max_lon), func.max(z.max_lat)
            )
        ).one()
        return Extent(None if row[0] is None else tuple(row))  # type: ignore[arg-type]

    @staticmethod
    def _feature(z: PlanningZone) -> Feature:
        properties = {
            "code": z.code, "name": z.name, "designation": z.designation,
            "allowed_uses": z.allowed_uses, "plan": z.plan, "place_code": z.place_code,
        }  # fmt: skip
        return feature(z.code, z.geometry, properties)

    def items(
        self, session: Session, principal: Principal, query: ItemsQuery
    ) -> tuple[list[Feature], int]:
        z = PlanningZone
        where = _column_filters(z, query, self.queryables)
        page = spatial.page(
            session, ZONES, (z,), where, query.limit, query.offset, query.bbox, rtree=False
        )
        zones = [row[0] for row in page.rows]
        return [self._feature(zone) for zone in zones], page.matched

    def item(self, session: Session, principal: Principal, fid: str) -> Feature:
        zone = session.get(PlanningZone, fid)
        if zone is None:
            raise NotFound(f"no planning zone {fid!r}")
        return self._feature(zone)
