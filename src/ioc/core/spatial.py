"""Geometry columns: PostGIS ``geometry(Geometry,4326)`` on PostgreSQL, GeoJSON text on SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import TypeEngine, UserDefinedType

SRID = 4326


class Geometry(UserDefinedType[str]):
    """Any PostGIS geometry in WGS 84; services write it with ST_GeomFromGeoJSON."""

    cache_ok = True

    def __init__(self, *_reflected: Any) -> None:
        # Reflection passes the modifiers it read back ("Geometry", 4326); the type is fixed.
        super().__init__()

    def get_col_spec(self, **_kw: Any) -> str:
        return f"geometry(Geometry,{SRID})"


# Reflected PostGIS columns come back as Geometry instead of an unknown type (and a warning).
ischema_names.setdefault("geometry", Geometry)

# A column holding one geometry: indexed PostGIS geometry on PostgreSQL, GeoJSON text on SQLite
# (where bounding-box columns beside it do the indexing and shapely the exact test).
GeometryColumn: TypeEngine[str] = Text().with_variant(Geometry(), "postgresql")
