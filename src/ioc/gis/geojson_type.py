"""A geometry column the ORM reads and writes as GeoJSON text on both backends.

On PostgreSQL the column is PostGIS ``geometry(Geometry,4326)`` (``ioc.core.spatial``): values
go in through ``ST_GeomFromGeoJSON`` and come out through ``ST_AsGeoJSON``, so services never
see the difference; on SQLite it is the GeoJSON text itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, func
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from ioc.core.spatial import SRID, Geometry

GEOJSON_DIGITS = 9  # ~0.1 mm at the equator: no coordinate an import wrote is rounded away


class GeoJSONGeometry(Geometry):
    """PostGIS geometry that binds and returns GeoJSON text."""

    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return func.ST_SetSRID(func.ST_GeomFromGeoJSON(bindvalue), SRID)

    def column_expression(self, col: Any) -> ColumnElement[Any]:
        return func.ST_AsGeoJSON(col, GEOJSON_DIGITS)


GeoJSONColumn: TypeEngine[str] = Text().with_variant(GeoJSONGeometry(), "postgresql")
