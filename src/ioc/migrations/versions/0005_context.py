"""context broker: NGSI-LD entities, tenants and the @context cache

Revision ID: 0005_context
Revises: 0004_feedback_open_index
Create Date: 2026-12-02 13:30:13.319990
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db
import ioc.core.spatial

revision: str = "0005_context"
down_revision: str | None = "0004_feedback_open_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ngsi_tenants",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ngsi_tenants")),
    )
    op.create_table(
        "ngsi_entities",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column(
            "id",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("type", sa.String(length=512), nullable=False),
        sa.Column("attrs", JSON, nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column(
            "location",
            sa.Text().with_variant(ioc.core.spatial.Geometry(), "postgresql"),
            nullable=True,
            comment="the location GeoProperty",
        ),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name=op.f("pk_ngsi_entities")),
    )
    op.create_index("ix_ngsi_entities_type", "ngsi_entities", ["tenant", "type"])
    op.create_index("ix_ngsi_entities_bbox", "ngsi_entities", ["tenant", "min_lon", "max_lon"])
    op.create_index(op.f("ix_ngsi_entities_place_code"), "ngsi_entities", ["place_code"])
    if op.get_context().dialect.name == "postgresql":
        op.create_index(
            "ix_ngsi_entities_location", "ngsi_entities", ["location"], postgresql_using="gist"
        )
    op.create_table(
        "ngsi_contexts",
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("local_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_ngsi_contexts")),
        sa.UniqueConstraint("local_id", name=op.f("uq_ngsi_contexts_local_id")),
    )


def downgrade() -> None:
    op.drop_table("ngsi_contexts")
    op.drop_table("ngsi_entities")  # its indexes go with it
    op.drop_table("ngsi_tenants")
