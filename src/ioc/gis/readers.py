"""Read a GeoJSON, zipped Shapefile, GeoPackage or CSV file with GDAL (pyogrio), never by hand.

The format is told by the bytes, not the name: a file whose content is not what its extension
says is refused with both named. Geometries come back as shapely objects in the file's own
CRS; reprojection and checks are the importer's.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyogrio import list_layers
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyogrio.raw import read
from shapely.geometry.base import BaseGeometry

from ioc.core.problems import Invalid, PayloadTooLarge

MAX_IMPORT_BYTES = 512 * 1024 * 1024  # a province's cadastre fits; a 10 GB upload does not
FORMATS = {
    "geojson": "GeoJSON",
    "shapefile": "zipped Shapefile",
    "gpkg": "GeoPackage",
    "csv": "CSV",
}
EXTENSIONS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "shapefile",
    ".gpkg": "gpkg",
    ".csv": "csv",
    ".txt": "csv",
}
# CSV columns GDAL should take as coordinates or geometry (English and Vietnamese names).
CSV_OPTIONS = {
    "X_POSSIBLE_NAMES": "lon,long,lng,longitude,x,kinh_do,kinhdo",
    "Y_POSSIBLE_NAMES": "lat,latitude,y,vi_do,vido",
    "GEOM_POSSIBLE_NAMES": "wkt,geometry,geom",
    "KEEP_GEOM_COLUMNS": "NO",
    "AUTODETECT_TYPE": "YES",
}
_OGR_TYPES = {
    "OFTInteger": "integer",
    "OFTInteger64": "integer",
    "OFTReal": "number",
    "OFTDate": "date",
    "OFTDateTime": "datetime",
}


@dataclass(frozen=True, slots=True)
class RawLayer:
    """What a file holds: its CRS (None when it says nothing), fields and features."""

    crs: str | None
    fields: list[dict[str, str]]  # [{"name": …, "type": string|integer|number|date|datetime}]
    ids: list[str | None]
    geometries: list[BaseGeometry | None]
    properties: list[dict[str, Any]]


def _sniff(head: bytes) -> str | None:
    """The format the first bytes show, or None when they show none we read."""
    if head.startswith(b"PK\x03\x04"):
        return "shapefile"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return "geojson"
    try:
        first_line = text.decode("utf-8").splitlines()[0] if text else ""
    except UnicodeDecodeError:
        return None
    return "csv" if any(sep in first_line for sep in ",;\t") else None


def detect_format(path: Path, name: str | None = None) -> str:
    """The format of the file at ``path`` (its bytes must agree with its extension ``name``)."""
    name = name or path.name
    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            f"{name} is {size:,} bytes; a layer import takes at most {MAX_IMPORT_BYTES:,}",
            limit=MAX_IMPORT_BYTES,
        )
    if size == 0:
        raise Invalid("file", f"{name} is empty")
    with path.open("rb") as f:
        head = f.read(4096)
    found = _sniff(head)
    claimed = EXTENSIONS.get(Path(name).suffix.lower())
    if found is None:
        raise Invalid("file", f"{name} is not GeoJSON, a zipped Shapefile, a GeoPackage or CSV")
    if claimed is not None and claimed != found:
        raise Invalid(
            "file",
            f"{name} is named as {FORMATS[claimed]} but its content is {FORMATS[found]}",
        )
    if found == "gpkg" and head[68:72] not in (b"GPKG", b"GP10", b"GP11"):
        raise Invalid("file", f"{name} is an SQLite database but not a GeoPackage")
    if found == "shapefile":
        _check_zip(path, name)
    return found


def _check_zip(path: Path, name: str) -> None:
    """A zipped Shapefile: a .shp inside, and no more uncompressed bytes than an import allows."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise Invalid("file", f"{name} is not a readable zip archive") from None
    if not any(m.filename.lower().endswith(".shp") for m in members):
        raise Invalid(
            "file", f"{name} holds no .shp file (a zipped Shapefile needs .shp, .shx, .dbf)"
        )
    if sum(m.file_size for m in members) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            f"{name} unpacks to more than {MAX_IMPORT_BYTES:,} bytes", limit=MAX_IMPORT_BYTES
        )


def _plain(value: Any) -> Any:
    """A JSON-ready value from what GDAL gave (NaN is a missing number)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, bytes):
        return value.hex()
    return value


def _layer_named(path: Path, fmt: str, wanted: str | None) -> str | None:
    """The layer to read: ``wanted`` if the file holds it; the only one; else ask which."""
    try:
        names = [str(row[0]) for row in list_layers(str(path))]
    except (DataSourceError, DataLayerError) as exc:
        raise Invalid("file", f"GDAL cannot read it as {FORMATS[fmt]}: {exc}") from None
    if wanted is not None:
        if wanted not in names:
            raise Invalid("source_layer", f"no layer {wanted!r}; the file holds {', '.join(names)}")
        return wanted
    if len(names) > 1:
        raise Invalid(
            "source_layer",
            f"the file holds {len(names)} layers ({', '.join(names)}): name the one to import",
        )
    return None


def read_layer(path: Path, fmt: str, source_layer: str | None = None) -> RawLayer:
    """Every feature of the file's layer (a CSV's X/Y or WKT columns make its geometry).

    A GeoPackage may hold several layers: ``source_layer`` names one, and a file of several
    with none named is refused rather than read partly."""
    options: dict[str, Any] = dict(CSV_OPTIONS) if fmt == "csv" else {}
    if fmt == "gpkg" or source_layer is not None:
        options["layer"] = _layer_named(path, fmt, source_layer)
    try:
        meta, fids, wkb, columns = read(str(path), datetime_as_string=True, **options)
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as exc:
        raise Invalid("file", f"GDAL cannot read it as {FORMATS[fmt]}: {exc}") from None
    names = [str(n) for n in meta["fields"]]
    fields = [
        {"name": n, "type": _OGR_TYPES.get(t, "string")}
        for n, t in zip(names, meta["ogr_types"], strict=True)
    ]
    count = len(wkb) if wkb is not None else (len(columns[0]) if columns else 0)
    if wkb is None:
        geometries: list[BaseGeometry | None] = [None] * count
    else:
        geometries = list(shapely.from_wkb(wkb, on_invalid="ignore"))
    values = [column.tolist() for column in columns]
    properties = [{n: _plain(values[j][i]) for j, n in enumerate(names)} for i in range(count)]
    id_field = next((n for n in names if n.lower() in ("id", "fid", "ma", "code")), None)
    ids: list[str | None] = [
        str(p[id_field]) if id_field and p.get(id_field) is not None else None for p in properties
    ]
    if fids is not None and fmt == "gpkg":
        ids = [i if i is not None else str(f) for i, f in zip(ids, fids, strict=True)]
    return RawLayer(meta["crs"], fields, ids, geometries, properties)
