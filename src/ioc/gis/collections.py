"""The collections OGC API – Features serves, behind one small interface, and their registry.

Built-in: administrative units (from the core places tree), land parcels and planning zones
(``ioc.gis.land_sources``); every row of ``gis_layers`` (infrastructure, imports) is one more.
A source answers pages of features as dicts whose geometry is an ``orjson.Fragment`` of the
stored GeoJSON text, so serving a page never parses and re-encodes coordinates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import shapely
from shapely.geometry import box as make_box
from shapely.geometry import shape as make_shape
from sqlalchemy import ColumnElement, Float, cast, select
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.models import Place
from ioc.core.problems import NotFound
from ioc.gis import spatial
from ioc.gis.models import FEATURES, GisFeature, GisLayer
from ioc.gis.query import Interval, ItemsQuery

Feature = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Extent:
    bbox: tuple[float, float, float, float] | None
    interval: tuple[dt.datetime | None, dt.datetime | None] | None = None


class Source(Protocol):
    """One collection: what it is, and its features."""

    id: str
    title: str
    description: str
    queryables: dict[str, str]

    def extent(self, session: Session) -> Extent: ...

    def items(
        self, session: Session, principal: Principal, query: ItemsQuery
    ) -> tuple[list[Feature], int]: ...

    def item(self, session: Session, principal: Principal, fid: str) -> Feature: ...


def feature(fid: Any, geometry: str | dict[str, Any] | None, properties: dict[str, Any]) -> Feature:
    """A GeoJSON Feature; stored GeoJSON text goes in untouched."""
    geom: Any = orjson.Fragment(geometry) if isinstance(geometry, str) else geometry
    return {"type": "Feature", "id": fid, "geometry": geom, "properties": properties}


def interval_clauses(column: Any, interval: Interval | None) -> list[ColumnElement[bool]]:
    if interval is None:
        return []
    start, end = interval
    clauses = []
    if start is not None:
        clauses.append(column >= start)
    if end is not None:
        clauses.append(column <= end)
    return clauses


def property_clause(column: Any, kind: str, value: str) -> ColumnElement[bool]:
    """``column = value`` for a JSON property (compared as a number or as text)."""
    if kind in ("integer", "number"):
        return cast(column.as_string(), Float) == float(value)
    return column.as_string() == value  # type: ignore[no-any-return]


class LayerSource:
    """A row of ``gis_layers`` and its features."""

    def __init__(self, layer: GisLayer) -> None:
        self.layer = layer
        self.id = layer.id
        self.title = layer.title
        self.description = layer.description
        self.queryables = {
            str(f["name"]): str(f.get("type", "string")) for f in layer.properties or []
        }

    def extent(self, session: Session) -> Extent:
        l = self.layer  # noqa: E741
        box = None if l.min_lon is None else (l.min_lon, l.min_lat, l.max_lon, l.max_lat)
        return Extent(box)  # type: ignore[arg-type]

    def items(
        self, session: Session, principal: Principal, query: ItemsQuery
    ) -> tuple[list[Feature], int]:
        f = GisFeature
        where = [f.layer_id == self.id, *interval_clauses(f.at, query.interval)]
        for name, value in query.filters.items():
            where.append(property_clause(f.properties[name], self.queryables[name], value))
        columns = (f.fid, f.geometry, f.properties, f.place_code)
        page = spatial.page(
            session, FEATURES, columns, where, query.limit, query.offset, query.bbox
        )
        return [self._feature(r) for r in page.rows], page.matched

    def item(self, session: Session, principal: Principal, fid: str) -> Feature:
        f = GisFeature
        row = session.execute(
            select(f.fid, f.geometry, f.properties, f.place_code).where(
                f.layer_id == self.id, f.fid == fid
            )
        ).first()
        if row is None:
            raise NotFound(f"no feature {fid!r} in collection {self.id!r}")
        return self._feature(row)

    @staticmethod
    def _feature(row: Any) -> Feature:
        return feature(row.fid, row.geometry, {**row.properties, "place_code": row.place_code})


class AdminUnits:
    """Provinces, districts and communes of the core places tree (boundaries once imported)."""

    id = "admin-units"
    title = "Administrative units"
    description = (
        "Province, districts and communes: imported boundaries, else their bounding boxes."
    )
    queryables = {"level": "string", "parent_code": "string", "code": "string"}

    def _places(self, session: Session, query: ItemsQuery | None) -> list[Place]:
        stmt = select(Place).order_by(Place.path)
        for name, value in (query.filters if query else {}).items():
            stmt = stmt.where(getattr(Place, name) == value)
        return list(session.scalars(stmt))

    @staticmethod
    def _geometry(p: Place) -> Any:
        if p.boundary:
            return make_shape(p.boundary)
        if (
            p.min_lon is not None
            and p.min_lat is not None
            and p.max_lon is not None
            and p.max_lat is not None
        ):
            return make_box(p.min_lon, p.min_lat, p.max_lon, p.max_lat)
        return None

    def _feature(self, p: Place) -> Feature:
        shape = self._geometry(p)
        properties = {
            "code": p.code, "name": p.name, "level": p.level, "kind": p.kind,
            "parent_code": p.parent_code, "area_km2": p.area_km2,
            "geometry_source": "boundary" if p.boundary else "bbox",
        }  # fmt: skip
        return feature(p.code, shape.__geo_interface__ if shape is not None else None, properties)

    def extent(self, session: Session) -> Extent:
        province = session.scalars(select(Place).where(Place.level == "province")).first()
        if province is None or province.min_lon is None:
            return Extent(None)
        return Extent((province.min_lon, province.min_lat, province.max_lon, province.max_lat))  # type: ignore[arg-type]

    def items(
        self, session: Session, principal: Principal, query: ItemsQuery
    ) -> tuple[list[Feature], int]:
        found = self._places(session, query)
        if query.bbox is not None:
            window = make_box(*query.bbox)
            shapes = [self._geometry(p) for p in found]
            found = [
                p
                for p, s in zip(found, shapes, strict=True)
                if s is not None and shapely.intersects(window, s)
            ]
        page = found[query.offset : query.offset + query.limit]
        return [self._feature(p) for p in page], len(found)

    def item(self, session: Session, principal: Principal, fid: str) -> Feature:
        place = session.get(Place, fid)
        if place is None:
            raise NotFound(f"no administrative unit {fid!r}")
        return self._feature(place)


BUILT_IN = ("admin-units", "parcels", "planning-zones", "feedback-reports")
DEVICE_KINDS = ("streetlights", "cameras")


def builtin(collection_id: str, broker: Any = None) -> Source | None:
    """A collection that is no row of ``gis_layers``; None when ``collection_id`` names none."""
    from ioc.gis.land_sources import ParcelSource, ZoneSource
    from ioc.gis.linked_sources import DeviceSource, FeedbackSource

    if collection_id in DEVICE_KINDS:
        return DeviceSource(collection_id, broker) if broker is not None else None
    sources: dict[str, Source] = {
        "admin-units": AdminUnits(),
        "parcels": ParcelSource(),
        "planning-zones": ZoneSource(),
        "feedback-reports": FeedbackSource(),
    }
    return sources.get(collection_id)


def registry(session: Session, broker: Any = None) -> dict[str, Source]:
    """Every collection: the built-in ones, the devices' (given a broker), then the layers."""
    sources: dict[str, Source] = {}
    for collection_id in (*BUILT_IN, *DEVICE_KINDS):
        found = builtin(collection_id, broker)
        if found is not None:
            sources[collection_id] = found
    for layer in session.scalars(select(GisLayer).order_by(GisLayer.category, GisLayer.id)):
        sources[layer.id] = LayerSource(layer)
    return sources


def get_source(session: Session, collection_id: str, broker: Any = None) -> Source:
    found = builtin(collection_id, broker)
    if found is not None:
        return found
    layer = session.get(GisLayer, collection_id)
    if layer is None:
        raise NotFound(f"no collection {collection_id!r}; GET /ogcapi/collections lists them")
    return LayerSource(layer)
