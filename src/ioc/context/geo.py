"""GeoJSON geometries of GeoProperties and NGSI-LD geo-queries, in PostGIS or with shapely.

PostgreSQL answers geo-queries with PostGIS on the indexed ``location`` column; SQLite
narrows by the bounding-box columns and shapely decides. Both use GEOS predicates, and both
measure ``near`` distances on the same sphere (PostGIS ``use_spheroid => false``), so a query
gives the same entities on either backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlalchemy import ColumnElement, and_, func, literal, not_

from ioc.context.errors import BadRequestData
from ioc.context.jsonld import NGSI_LD, TermMap

# Depth of nesting of positions in each geometry's coordinates.
GEOMETRY_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
GEORELS = ("near", "within", "contains", "intersects", "disjoint", "equals", "overlaps")
EARTH_RADIUS_M = 6371008.7714  # PostGIS's sphere (the mean radius of WGS 84)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
LOCATION = NGSI_LD + "location"
SRID = 4326

BBox = tuple[float, float, float, float]


def _positions(coords: Any, depth: int, field: str) -> list[list[float]]:
    """Every position in ``coords`` (checked as numbers in range), flattened."""
    if depth == 0:
        if not (
            isinstance(coords, list)
            and 2 <= len(coords) <= 3
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
        ):
            raise BadRequestData(f"{field}: a position is [longitude, latitude], got {coords!r}")
        lon, lat = coords[0], coords[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BadRequestData(
                f"{field}: [{lon}, {lat}] is out of range (longitude -180..180, latitude -90..90)"
            )
        return [coords]
    if not isinstance(coords, list) or not coords:
        raise BadRequestData(f"{field}: coordinates are not nested as the geometry type requires")
    out: list[list[float]] = []
    for item in coords:
        out += _positions(item, depth - 1, field)
    return out


def _check_shape(kind: str, coords: list[Any], field: str) -> None:
    lines: list[Any] = []
    rings: list[Any] = []
    if kind == "LineString":
        lines = [coords]
    elif kind == "MultiLineString":
        lines = coords
    elif kind == "Polygon":
        rings = coords
    elif kind == "MultiPolygon":
        rings = [ring for polygon in coords for ring in polygon]
    if any(len(line) < 2 for line in lines):
        raise BadRequestData(f"{field}: a LineString needs at least two positions")
    for ring in rings:
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise BadRequestData(
                f"{field}: a polygon ring needs four positions or more, the last equal to the first"
            )


def check_geometry(value: Any, field: str) -> BaseGeometry:
    """A GeoJSON geometry NGSI-LD accepts, as a shapely geometry; else BadRequestData."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise BadRequestData(f"{field}: a GeoProperty's value is a GeoJSON geometry object")
    kind = value["type"]
    depth = GEOMETRY_DEPTH.get(kind)
    if depth is None:
        allowed = ", ".join(GEOMETRY_DEPTH)
        raise BadRequestData(f"{field}: unknown geometry type {kind!r} (one of {allowed})")
    coords = value.get("coordinates")
    _positions(coords, depth, field)
    assert isinstance(coords, list)
    _check_shape(kind, coords, field)
    geometry = shape(value)
    if not geometry.is_valid:
        raise BadRequestData(f"{field}: the {kind} is not valid ({explain_validity(geometry)})")
    return geometry


def checked_bbox(value: Any, field: str) -> BBox:
    """The bounding box of a geometry :func:`check_geometry` accepts. A Point, what devices
    send all day, is checked by its position alone: building a GEOS one costs more than the
    rest of its write."""
    if isinstance(value, dict) and value.get("type") == "Point":
        lon, lat = _positions(value.get("coordinates"), 0, field)[0][:2]
        return (float(lon), float(lat), float(lon), float(lat))
    return bbox(check_geometry(value, field))


def bbox(geometry: BaseGeometry) -> BBox:
    minx, miny, maxx, maxy = geometry.bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Metres between two geometries on the sphere (exact for points, local plane otherwise)."""
    if isinstance(a, Point) and isinstance(b, Point):
        return _haversine((a.x, a.y), (b.x, b.y))
    origin = b.centroid
    x0, y0 = origin.x, origin.y
    scale = (METRES_PER_DEGREE * math.cos(math.radians(y0)), METRES_PER_DEGREE)

    def plane(coords: Any) -> Any:  # an (n, 2) array: numpy broadcasts the tuples
        return (coords - (x0, y0)) * scale

    return float(shapely.transform(a, plane).distance(shapely.transform(b, plane)))


@dataclass(frozen=True, slots=True)
class GeoQuery:
    """``georel`` with its reference geometry, on the GeoProperty ``geoproperty`` (expanded)."""

    georel: str
    geometry: dict[str, Any]
    shape: BaseGeometry
    geoproperty: str = LOCATION
    max_distance: float | None = None
    min_distance: float | None = None

    def test(self, geometry: BaseGeometry) -> bool:
        """Does an entity's geometry satisfy the query? (the exact test on SQLite)."""
        ref = self.shape
        if self.georel == "near":
            d = distance_m(geometry, ref)
            if self.max_distance is not None and d > self.max_distance:
                return False
            return self.min_distance is None or d >= self.min_distance
        predicate = {
            "within": geometry.within,
            "contains": geometry.contains,
            "intersects": geometry.intersects,
            "disjoint": geometry.disjoint,
            "equals": geometry.equals,
            "overlaps": geometry.overlaps,
        }[self.georel]
        return bool(predicate(ref))

    def window(self) -> BBox | None:
        """A box every matching entity's bounding box meets; None when no box narrows it."""
        if self.georel == "disjoint" or (self.georel == "near" and self.max_distance is None):
            return None
        minx, miny, maxx, maxy = bbox(self.shape)
        if self.georel == "near" and self.max_distance is not None:
            dlat = self.max_distance / METRES_PER_DEGREE * 1.01 + 1e-9
            top = min(89.999, max(abs(miny), abs(maxy)) + dlat)
            dlon = dlat / math.cos(math.radians(top))
            return minx - dlon, miny - dlat, maxx + dlon, maxy + dlat
        return minx, miny, maxx, maxy

    def postgis(self, column: Any) -> ColumnElement[bool]:
        """The PostGIS condition on a geometry expression (the GiST index serves ``&&``)."""
        ref = func.ST_SetSRID(
            func.ST_GeomFromGeoJSON(literal(orjson.dumps(self.geometry).decode())), SRID
        )
        if self.georel == "near":
            clauses: list[ColumnElement[bool]] = [column.isnot(None)]
            window = self.window()
            if window is not None:
                envelope = func.ST_MakeEnvelope(*window, SRID)
                clauses.append(column.op("&&")(envelope))
            here, there = func.geography(column), func.geography(ref)
            if self.max_distance is not None:
                clauses.append(func.ST_DWithin(here, there, self.max_distance, False))
            if self.min_distance is not None:
                clauses.append(not_(func.ST_DWithin(here, there, self.min_distance, False)))
            return and_(*clauses)
        function = {
            "within": func.ST_Within,
            "contains": func.ST_Contains,
            "intersects": func.ST_Intersects,
            "disjoint": func.ST_Disjoint,
            "equals": func.ST_Equals,
            "overlaps": func.ST_Overlaps,
        }[self.georel]
        return function(column, ref).is_(True)


def _distance(georel: str, part: str) -> tuple[str, float]:
    name, sep, number = part.partition("==")
    if not sep or name not in ("maxDistance", "minDistance"):
        raise BadRequestData(f"georel: {georel!r}: near takes maxDistance==M or minDistance==M")
    try:
        value = float(number)
    except ValueError:
        raise BadRequestData(f"georel: {number!r} is not a distance in metres") from None
    if not math.isfinite(value) or value < 0:
        raise BadRequestData(f"georel: {number!r} is not a distance in metres")
    return name, value


def _coordinates(raw: str) -> Any:
    text = raw.strip()
    if not text.startswith("["):
        text = f"[{text}]"  # a point written without brackets: coordinates=105.3,20.8
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadRequestData(f"coordinates: {raw!r} is not a JSON array of positions") from None


def parse_geoquery(params: Mapping[str, str], terms: TermMap) -> GeoQuery | None:
    """The geo-query of ``georel``/``geometry``/``coordinates``/``geoproperty``, if any."""
    georel = params.get("georel")
    geometry = params.get("geometry")
    coordinates = params.get("coordinates")
    if georel is None and geometry is None and coordinates is None:
        return None
    if not (georel and geometry and coordinates):
        raise BadRequestData("a geo-query needs georel, geometry and coordinates together")
    parts = georel.split(";")
    relation = parts[0]
    if relation not in GEORELS:
        raise BadRequestData(f"georel: unknown relation {relation!r} (one of {', '.join(GEORELS)})")
    distances: dict[str, float] = {}
    for part in parts[1:]:
        if relation != "near":
            raise BadRequestData(f"georel: {relation} takes no distance")
        name, metres = _distance(georel, part)
        distances[name] = metres
    if relation == "near" and not distances:
        raise BadRequestData("georel: near needs maxDistance==M or minDistance==M (metres)")
    value = {"type": geometry, "coordinates": _coordinates(coordinates)}
    reference = check_geometry(value, "coordinates")
    geoproperty = terms.expand(params.get("geoproperty") or "location")
    return GeoQuery(
        relation,
        value,
        reference,
        geoproperty,
        distances.get("maxDistance"),
        distances.get("minDistance"),
    )
