"""Tables of GIS: layers and their features, land parcels with their history, planning zones.

Geometry is PostGIS ``geometry(Geometry,4326)`` with a GiST index on PostgreSQL and GeoJSON
text on SQLite, where the bounding-box columns feed an R*Tree virtual table kept in step by
triggers (``ioc.gis.spatial``); shapely makes the exact test there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, utcnow
from ioc.core.models import ACTOR_LENGTH, BigId
from ioc.gis.geojson_type import GeoJSONColumn

LAYER_ID_LENGTH = 64
PARCEL_KEY_LENGTH = 40
CHANGES = ("created", "transfer", "split", "merge", "change_of_use", "retired")


class BBoxMixin:
    """A geometry and its bounding box (the box indexes it on SQLite and bounds collections)."""

    geometry: Mapped[str | None] = mapped_column(GeoJSONColumn)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)


class GisLayer(Base):
    """A collection of features: infrastructure, boundaries or anything an operator imports."""

    __tablename__ = "gis_layers"

    id: Mapped[str] = mapped_column(String(LAYER_ID_LENGTH), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="imported")
    geometry_type: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(300), default="")
    source_crs: Mapped[str | None] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    properties: Mapped[list[Any]] = mapped_column(default=list)
    temporal_property: Mapped[str | None] = mapped_column(String(64))
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GisFeature(BBoxMixin, Base):
    """One feature of a layer; ``fid`` is its id inside the layer (from the source or a number)."""

    __tablename__ = "gis_features"
    __audit__ = False  # written in bulk by an import, which is audited once per layer
    __table_args__ = (
        UniqueConstraint("layer_id", "fid"),
        Index("ix_gis_features_geometry", "geometry", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    layer_id: Mapped[str] = mapped_column(
        ForeignKey("gis_layers.id", ondelete="CASCADE"), index=True
    )
    fid: Mapped[str] = mapped_column(String(120))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)
    at: Mapped[dt.datetime | None] = mapped_column()


class PlanningZone(BBoxMixin, Base):
    """A zone of the approved land-use plan and the land-use codes it allows."""

    __tablename__ = "gis_planning_zones"
    __table_args__ = (
        Index("ix_gis_planning_zones_geometry", "geometry", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    designation: Mapped[str] = mapped_column(String(48))
    allowed_uses: Mapped[list[str]] = mapped_column(default=list)
    plan: Mapped[str] = mapped_column(String(200), default="")
    place_code: Mapped[str | None] = mapped_column(String(10), index=True)


class LandParcel(BBoxMixin, Base):
    """A land parcel (thửa đất): map sheet + parcel number + commune; the current state only.

    Every state it ever had, this one included, is a row of :class:`ParcelChange`.
    """

    __tablename__ = "gis_parcels"
    __table_args__ = (
        UniqueConstraint("commune_code", "sheet_no", "parcel_no"),
        Index("ix_gis_parcels_geometry", "geometry", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
        Index("ix_gis_parcels_commune_use", "commune_code", "land_use"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(PARCEL_KEY_LENGTH), unique=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("places.code"))
    sheet_no: Mapped[int] = mapped_column(Integer)
    parcel_no: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Float)
    land_use: Mapped[str] = mapped_column(String(8))
    zone_code: Mapped[str | None] = mapped_column(
        ForeignKey("gis_planning_zones.code", ondelete="SET NULL"), index=True
    )
    holder_name: Mapped[str | None] = mapped_column(String(200))
    holder_id: Mapped[str | None] = mapped_column(String(32), index=True)
    holder_kind: Mapped[str | None] = mapped_column(String(16))
    certificate_no: Mapped[str | None] = mapped_column(String(32))
    certificate_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ParcelChange(Base):
    """One state of a parcel and the change that made it; rows are only ever added."""

    __tablename__ = "gis_parcel_changes"
    __audit__ = False  # itself the parcel's history; the parcel row is audited
    __table_args__ = (UniqueConstraint("parcel_key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    parcel_key: Mapped[str] = mapped_column(String(PARCEL_KEY_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH), default="system")
    related: Mapped[list[str]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)


# The Core tables, typed, for bulk writes and the spatial queries.
FEATURES: Table = GisFeature.__table__  # type: ignore[assignment]
PARCELS: Table = LandParcel.__table__  # type: ignore[assignment]
ZONES: Table = PlanningZone.__table__  # type: ignore[assignment]
