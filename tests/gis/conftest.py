"""Fixtures of the GIS tests: the demo database (its Hòa Bình city cadastre) and file makers."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import shapely
from pyogrio.raw import write
from sqlalchemy.orm import Session

from ioc.core.db import Database

TAN_THINH = "04801"  # Phường Tân Thịnh, Hòa Bình city


@pytest.fixture
def session(demo_db: Database) -> Iterator[Session]:
    with demo_db.session("test") as s:
        s.info["actor"] = "test"
        yield s


def geojson_file(path: Path, features: list[dict[str, Any]], crs: str | None = None) -> Path:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_bytes(orjson.dumps(doc))
    return path


def point(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def ogr_file(
    path: Path, shapes: list[Any], names: list[str], crs: str, driver: str, zipped: bool = False
) -> Path:
    """A Shapefile (zipped when asked) or GeoPackage written by GDAL itself."""
    target = path.with_suffix(".shp") if driver == "ESRI Shapefile" else path
    write(
        str(target),
        geometry=np.array([shapely.to_wkb(s) for s in shapes], dtype=object),
        field_data=[np.array(names, dtype=object)],
        fields=["name"],
        geometry_type=shapes[0].geom_type,
        crs=crs,
        driver=driver,
    )
    if not zipped:
        return target
    archive = path.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as z:
        for part in target.parent.glob(target.stem + ".*"):
            if part.suffix != ".zip":
                z.write(part, part.name)
    return archive
