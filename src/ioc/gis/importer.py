"""Import a file as a new or replacement layer, in one transaction, with a per-feature report.

Each feature is reprojected to WGS 84 and checked; by default one bad feature refuses the
whole file (nothing is stored, every bad feature is listed). An import with ``boundaries``
names the property holding GSO place codes: the polygons become the places' boundaries, and
locating a point (routing of feedback, devices) then uses them instead of bounding boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from ioc.core import audit, events, place_index, places
from ioc.core.db import utcnow
from ioc.core.models import Place
from ioc.core.problems import Conflict, Invalid
from ioc.gis import geometry as geo
from ioc.gis.models import FEATURES, GisFeature, GisLayer
from ioc.gis.readers import RawLayer, detect_format, read_layer

LAYER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED = frozenset(
    {"admin-units", "parcels", "planning-zones", "feedback-reports", "streetlights", "cameras"}
)
_CHUNK = 1000
MAX_ERRORS = 1000  # a report lists this many bad features at most, and says how many more


@dataclass
class ImportReport:
    """What an import read, stored and refused (``errors``: index, id, message)."""

    layer: str
    format: str
    source_crs: str
    received: int = 0
    imported: int = 0
    rejected: int = 0
    replaced: bool = False
    boundaries: int = 0
    bbox: geo.BBox | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def check_layer_id(layer_id: str) -> None:
    if not LAYER_ID.match(layer_id):
        raise Invalid("layer", "lower-case letters, digits, '-' and '_' (at most 64), e.g. 'roads'")
    if layer_id in RESERVED:
        raise Invalid("layer", f"{layer_id!r} is a built-in collection; choose another name")


def _crs_of(raw: RawLayer, override: str | None) -> Any:
    if override:
        return geo.parse_crs(override)
    if raw.crs:
        return geo.parse_crs(raw.crs)
    return geo.parse_crs(geo.WGS84)  # GeoJSON (RFC 7946) and coordinate CSVs without a .prj


@dataclass
class _Prepared:
    rows: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    rejected: int
    bbox: geo.BBox | None
    types: set[str]


def _prepare(session: Session, raw: RawLayer, crs: Any, layer_id: str) -> _Prepared:
    """Rows to insert, and the features refused with why."""
    reproject = geo.reprojector(crs)
    index = place_index.current(session)
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    rejected = 0
    seen: set[str] = set()
    box: list[float] | None = None
    types: set[str] = set()
    for i, (fid, shape, props) in enumerate(
        zip(raw.ids, raw.geometries, raw.properties, strict=True)
    ):
        fid = fid or str(i + 1)
        try:
            shape = reproject(shape) if reproject is not None and shape is not None else shape
            why = geo.problem(shape)
        except Exception as exc:  # pyproj refuses points outside its domain
            why = f"cannot reproject it ({exc})"
        if why is None and fid in seen:
            why = f"the id {fid!r} is used twice in this file"
        if why is not None:
            rejected += 1
            if len(errors) < MAX_ERRORS:
                errors.append({"index": i, "id": fid, "message": why})
            continue
        assert shape is not None
        seen.add(fid)
        b = geo.bounds(shape)
        box = (
            list(b)
            if box is None
            else [min(box[0], b[0]), min(box[1], b[1]), max(box[2], b[2]), max(box[3], b[3])]
        )
        types.add(shape.geom_type)
        point = shape.representative_point()
        place = _commune(session, index, point.y, point.x)
        rows.append(
            {
                "layer_id": layer_id,
                "fid": fid[:120],
                "properties": props,
                "geometry": geo.to_text(shape),
                "min_lon": b[0],
                "min_lat": b[1],
                "max_lon": b[2],
                "max_lat": b[3],
                "place_code": place,
                "_shape": shape,
            }
        )
    bbox = (box[0], box[1], box[2], box[3]) if box is not None else None
    return _Prepared(rows, errors, rejected, bbox, types)


def _commune(session: Session, index: place_index.PlaceIndex, lat: float, lon: float) -> str | None:
    if not index.has_boundaries:
        hit = index.locate(lat, lon, "commune")
        return hit.code if hit is not None else None
    found = places.locate(session, lat, lon, "commune")
    return found.code if found is not None else None


def _set_boundaries(
    session: Session, rows: list[dict[str, Any]], code_field: str
) -> list[dict[str, Any]]:
    """Make each feature's polygon the boundary of the place its ``code_field`` names."""
    errors = []
    for i, row in enumerate(rows):
        code = row["properties"].get(code_field)
        place = session.get(Place, str(code)) if code is not None else None
        shape = row["_shape"]
        if place is None or shape.geom_type not in ("Polygon", "MultiPolygon"):
            why = (
                f"{code_field}={code!r} is no place of this database"
                if place is None
                else f"a boundary is a polygon, not a {shape.geom_type}"
            )
            errors.append({"index": i, "id": row["fid"], "message": why})
            continue
        place.boundary = geo.mapping_of(shape)
        place.min_lon, place.min_lat, place.max_lon, place.max_lat = geo.bounds(shape)
        row["place_code"] = place.code
    return errors


def import_file(
    session: Session,
    path: Path,
    layer_id: str,
    *,
    filename: str | None = None,
    title: str | None = None,
    crs: str | None = None,
    replace: bool = False,
    category: str = "imported",
    boundaries: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    source_layer: str | None = None,
) -> ImportReport:
    """Read ``path`` into layer ``layer_id``; raises Invalid (nothing stored) on bad features."""
    check_layer_id(layer_id)
    name = filename or path.name
    fmt = detect_format(path, name)
    raw = read_layer(path, fmt, source_layer)
    source = _crs_of(raw, crs)
    existing = session.get(GisLayer, layer_id)
    if existing is not None and not replace:
        raise Conflict(f"layer {layer_id!r} exists; import with replace to swap its features")
    prepared = _prepare(session, raw, source, layer_id)
    report = ImportReport(
        layer_id,
        fmt,
        source.to_string(),
        received=len(raw.geometries),
        replaced=existing is not None,
    )
    report.errors, report.rejected, report.bbox = prepared.errors, prepared.rejected, prepared.bbox
    if boundaries:
        wrong = _set_boundaries(session, prepared.rows, boundaries)
        report.errors.extend(wrong)
        report.rejected += len(wrong)
        report.boundaries = len(prepared.rows) - len(wrong)
    if report.rejected and not skip_invalid:
        refused = Invalid(
            "file",
            f"{report.rejected} of {report.received} features cannot be imported; nothing was "
            "stored (fix them, or import with skip_invalid to leave them out)",
        )
        refused.errors += [{"field": f"features[{e['index']}]", **e} for e in report.errors]
        raise refused
    if not prepared.rows:
        raise Invalid("file", f"{name} has no feature that can be imported")
    report.imported = len(prepared.rows)
    if dry_run:
        return report
    layer = existing or GisLayer(id=layer_id, created_at=utcnow())
    layer.title = title or (existing.title if existing else layer_id.replace("-", " ").capitalize())
    layer.category = category
    layer.source, layer.source_crs = name[:300], source.to_string()[:64]
    layer.geometry_type = prepared.types.pop() if len(prepared.types) == 1 else "Geometry"
    layer.feature_count = report.imported
    layer.properties = raw.fields
    layer.temporal_property = None
    layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat = prepared.bbox or (None,) * 4
    if existing is None:
        layer.description = f"Imported from {name}"
        session.add(layer)
    session.flush()
    session.execute(delete(GisFeature).where(GisFeature.layer_id == layer_id))
    rows = [{k: v for k, v in row.items() if k != "_shape"} for row in prepared.rows]
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(FEATURES), rows[start : start + _CHUNK])
    summary = {k: v for k, v in report.__dict__.items() if k != "errors"}
    audit.record(
        session, "replace" if existing else "create", "gis_layers", layer_id, after=summary
    )
    events.emit(session, "gis.layer.imported", summary, subject=layer_id)
    return report
