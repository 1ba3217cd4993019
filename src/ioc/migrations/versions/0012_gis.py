"""gis: layers, features, land parcels and their history, planning zones

Revision ID: 0012_gis
Revises: 0011_indicators
Create Date: 2026-11-26 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db
import ioc.core.spatial

revision: str = "0012_gis"
down_revision: str | None = "0011_indicators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = ioc.core.db.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# Tables whose bounding boxes an SQLite R*Tree indexes (PostgreSQL: a GiST index instead).
RTREE_TABLES = ("gis_features", "gis_parcels")


def _geometry_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("geometry", ioc.core.spatial.GeometryColumn, nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
    ]


def _sqlite_rtree(table: str) -> None:
    """An R*Tree of ``table``'s boxes, kept in step with the rows by triggers."""
    rtree = f"{table}_rtree"
    box = "new.min_lon, new.max_lon, new.min_lat, new.max_lat"
    has_box = "new.min_lon IS NOT NULL"
    op.execute(f"CREATE VIRTUAL TABLE {rtree} USING rtree(id, min_lon, max_lon, min_lat, max_lat)")
    op.execute(
        f"CREATE TRIGGER {rtree}_ins AFTER INSERT ON {table} WHEN {has_box} BEGIN "
        f"INSERT INTO {rtree} VALUES (new.id, {box}); END"
    )
    op.execute(
        f"CREATE TRIGGER {rtree}_upd AFTER UPDATE OF min_lon, min_lat, max_lon, max_lat "
        f"ON {table} BEGIN DELETE FROM {rtree} WHERE id = old.id; "
        f"INSERT INTO {rtree} SELECT new.id, {box} WHERE {has_box}; END"
    )
    op.execute(
        f"CREATE TRIGGER {rtree}_del AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {rtree} WHERE id = old.id; END"
    )


def upgrade() -> None:
    op.create_table(
        "gis_layers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("geometry_type", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("source_crs", sa.String(length=64), nullable=True),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("temporal_property", sa.String(length=64), nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gis_layers")),
    )
    op.create_table(
        "gis_features",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("layer_id", sa.String(length=64), nullable=False),
        sa.Column("fid", sa.String(length=120), nullable=False),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("at", TIME, nullable=True),
        *_geometry_columns(),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["gis_layers.id"],
            name=op.f("fk_gis_features_layer_id_gis_layers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gis_features")),
        sa.UniqueConstraint("layer_id", "fid", name=op.f("uq_gis_features_layer_id")),
    )
    op.create_index(op.f("ix_gis_features_layer_id"), "gis_features", ["layer_id"])
    op.create_index(op.f("ix_gis_features_place_code"), "gis_features", ["place_code"])
    op.create_table(
        "gis_planning_zones",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("designation", sa.String(length=48), nullable=False),
        sa.Column("allowed_uses", JSON, nullable=False),
        sa.Column("plan", sa.String(length=200), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        *_geometry_columns(),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_gis_planning_zones")),
    )
    op.create_index(op.f("ix_gis_planning_zones_place_code"), "gis_planning_zones", ["place_code"])
    op.create_table(
        "gis_parcels",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("commune_code", sa.String(length=10), nullable=False),
        sa.Column("sheet_no", sa.Integer(), nullable=False),
        sa.Column("parcel_no", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("land_use", sa.String(length=8), nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=True),
        sa.Column("holder_name", sa.String(length=200), nullable=True),
        sa.Column("holder_id", sa.String(length=32), nullable=True),
        sa.Column("holder_kind", sa.String(length=16), nullable=True),
        sa.Column("certificate_no", sa.String(length=32), nullable=True),
        sa.Column("certificate_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        *_geometry_columns(),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["places.code"], name=op.f("fk_gis_parcels_commune_code_places")
        ),
        sa.ForeignKeyConstraint(
            ["zone_code"],
            ["gis_planning_zones.code"],
            name=op.f("fk_gis_parcels_zone_code_gis_planning_zones"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gis_parcels")),
        sa.UniqueConstraint(
            "commune_code", "sheet_no", "parcel_no", name=op.f("uq_gis_parcels_commune_code")
        ),
        sa.UniqueConstraint("key", name=op.f("uq_gis_parcels_key")),
    )
    op.create_index("ix_gis_parcels_commune_use", "gis_parcels", ["commune_code", "land_use"])
    op.create_index(op.f("ix_gis_parcels_holder_id"), "gis_parcels", ["holder_id"])
    op.create_index(op.f("ix_gis_parcels_zone_code"), "gis_parcels", ["zone_code"])
    op.create_table(
        "gis_parcel_changes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("parcel_key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("related", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gis_parcel_changes")),
        sa.UniqueConstraint("parcel_key", "version", name=op.f("uq_gis_parcel_changes_parcel_key")),
    )
    if op.get_context().dialect.name == "postgresql":
        for table in (*RTREE_TABLES, "gis_planning_zones"):
            op.create_index(f"ix_{table}_geometry", table, ["geometry"], postgresql_using="gist")
    else:
        for table in RTREE_TABLES:
            _sqlite_rtree(table)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for table in RTREE_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table}_rtree")
    op.drop_table("gis_parcel_changes")
    op.drop_table("gis_parcels")
    op.drop_table("gis_planning_zones")
    op.drop_table("gis_features")
    op.drop_table("gis_layers")
