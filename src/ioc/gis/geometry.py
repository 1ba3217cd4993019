"""Geometry checks, bounding boxes and reprojection to WGS 84 (VN-2000 by the MONRE parameters).

VN-2000 data comes as UTM (EPSG:3405/3406) or as a province's TM-3 zone (k0 = 0.9999, one
central meridian per province, Circular 973/2001/TT-TCĐC). PROJ knows two VN-2000 → WGS 84
transformations; we always take "VN-2000 to WGS 84 (2)", the national seven parameters of
Decision 05/2007/QĐ-BTNMT, not the Mekong-delta oil-block set PROJ may pick by area.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from pyproj.transformer import TransformerGroup
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from ioc.core.problems import Invalid

WGS84 = "EPSG:4326"
VN2000_DATUM = "Vietnam 2000"
NATIONAL_TRANSFORMATION = "VN-2000 to WGS 84 (2)"
# The same seven parameters in PROJ's +towgs84 (position-vector rotations: EPSG's
# coordinate-frame signs flipped), for TM-3 meridians the EPSG dataset has no code for.
VN2000_TOWGS84 = (
    "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
)
_TM3 = re.compile(r"^vn-?2000[ /:_-]*tm-?3[ /:_-]*(\d{3})(?:[.:-](\d{1,2}))?$", re.IGNORECASE)

BBox = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


def tm3_crs(meridian_deg: int, minutes: int = 0) -> CRS:
    """VN-2000 in the TM-3 zone of a central meridian (e.g. Hòa Bình: 106°00')."""
    if not (102 <= meridian_deg <= 110) or not (0 <= minutes < 60):
        raise Invalid(
            "crs", f"no VN-2000 TM-3 zone has its central meridian at {meridian_deg}°{minutes:02d}'"
        )
    name = f"VN-2000 / TM-3 {meridian_deg}-{minutes:02d}"
    try:
        return CRS.from_user_input(name)
    except CRSError:
        return custom_tm3(meridian_deg + minutes / 60)


def custom_tm3(lon0: float) -> CRS:
    """A VN-2000 TM-3 zone PROJ has no code for, with the national +towgs84."""
    return CRS.from_proj4(
        f"+proj=tmerc +lat_0=0 +lon_0={lon0} +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
        f"+towgs84={VN2000_TOWGS84} +units=m +no_defs +type=crs"
    )


def parse_crs(value: str) -> CRS:
    """A CRS from "EPSG:9211", a WKT/PROJ string, or "VN2000-TM3-106" / "VN2000-TM3-105-45"."""
    text = value.strip()
    match = _TM3.match(text)
    if match:
        return tm3_crs(int(match.group(1)), int(match.group(2) or 0))
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        raise Invalid(
            "crs",
            f"unknown coordinate reference system {value!r}; give e.g. EPSG:9211 or VN2000-TM3-106",
        ) from None
    if crs.is_vertical or (crs.is_compound and crs.sub_crs_list[0].is_vertical):
        raise Invalid("crs", f"{value!r} is a vertical CRS; give a horizontal one")
    return crs


def _pick(source: CRS) -> Transformer:
    """The transformer to WGS 84 (lon, lat), with VN-2000's national parameters when it applies."""
    if source.datum is not None and source.datum.name == VN2000_DATUM:
        group = TransformerGroup(source, WGS84, always_xy=True)
        for candidate in group.transformers:
            if NATIONAL_TRANSFORMATION in candidate.description:
                return candidate
    return Transformer.from_crs(source, WGS84, always_xy=True)


@lru_cache(maxsize=32)
def _transformer(wkt: str) -> Transformer:
    return _pick(CRS.from_wkt(wkt))


def is_wgs84(crs: CRS) -> bool:
    return crs.equals(CRS.from_user_input(WGS84), ignore_axis_order=True)


def reprojector(crs: CRS) -> Callable[[BaseGeometry], BaseGeometry] | None:
    """A function reprojecting shapely geometries from ``crs`` to WGS 84; None if it is WGS 84."""
    if is_wgs84(crs):
        return None
    transformer = _transformer(crs.to_wkt())

    def coords(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=True)
        return np.column_stack([lon, lat])

    def run(geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, coords)

    return run


def problem(geometry: BaseGeometry | None) -> str | None:
    """Why a geometry cannot be stored (None if it can): missing, empty, invalid, off the globe."""
    if geometry is None:
        return "the feature has no geometry"
    if geometry.is_empty:
        return "the geometry is empty"
    if not geometry.is_valid:
        return f"the geometry is not valid ({explain_validity(geometry)})"
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        return "the coordinates are not longitude/latitude after reprojection (wrong CRS?)"
    return None


def bounds(geometry: BaseGeometry) -> BBox:
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return (min_lon, min_lat, max_lon, max_lat)


def to_text(geometry: BaseGeometry) -> str:
    """GeoJSON text of a geometry (what the geometry columns take)."""
    return orjson.dumps(mapping(geometry)).decode()


def from_json(value: str | dict[str, Any] | None) -> BaseGeometry | None:
    if value is None:
        return None
    return shape(orjson.loads(value) if isinstance(value, str) else value)


def parse_bbox(value: str, field: str = "bbox") -> BBox:
    """``minLon,minLat,maxLon,maxLat`` (a 6-number 3D box keeps its horizontal part)."""
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise Invalid(field, "four comma-separated numbers: minLon,minLat,maxLon,maxLat") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(np.isfinite(numbers)):
        raise Invalid(field, "four comma-separated numbers: minLon,minLat,maxLon,maxLat")
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise Invalid(field, "longitudes lie between -180 and 180")
    if not (-90 <= min_lat <= max_lat <= 90):
        raise Invalid(field, "latitudes lie between -90 and 90, the lower one first")
    if min_lon > max_lon:
        raise Invalid(field, "a box across the antimeridian is not supported here")
    return (min_lon, min_lat, max_lon, max_lat)


def mapping_of(geometry: BaseGeometry) -> dict[str, Any]:
    """A geometry as a GeoJSON dict (plain lists, ready for a JSON column)."""
    out: dict[str, Any] = orjson.loads(to_text(geometry))
    return out


def jsonable(value: Any) -> Any:
    """Plain JSON (tuples become lists) for a JSON column."""
    return orjson.loads(orjson.dumps(value))
