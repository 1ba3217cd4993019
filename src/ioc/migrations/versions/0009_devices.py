"""devices: cameras, analytics events, streetlight operations

Revision ID: 0009_devices
Revises: 0008_ingest
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "0009_devices"
down_revision: str | None = "0008_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = ioc.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "device_camera_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", TIME, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("snapshot_url", sa.String(length=1000), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_camera_events")),
    )
    op.create_index(
        "ix_device_camera_events_camera_time",
        "device_camera_events",
        ["camera_id", "occurred_at"],
    )
    op.create_index(
        "ix_device_camera_events_kind_time", "device_camera_events", ["kind", "occurred_at"]
    )
    op.create_index(
        "ix_device_camera_events_place_time",
        "device_camera_events",
        ["place_code", "occurred_at"],
    )
    op.create_index(
        "ix_device_camera_events_external",
        "device_camera_events",
        ["camera_id", "external_id"],
        unique=True,
    )
    op.create_table(
        "device_streetlight_operations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=512), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("lights", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_streetlight_operations")),
    )
    op.create_index(
        op.f("ix_device_streetlight_operations_created_at"),
        "device_streetlight_operations",
        ["created_at"],
    )
    op.create_index(
        op.f("ix_device_streetlight_operations_place_code"),
        "device_streetlight_operations",
        ["place_code"],
    )
    op.create_table(
        "device_streetlight_faults",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("light_id", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("detected_at", TIME, nullable=False),
        sa.Column("cleared_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_streetlight_faults")),
    )
    op.create_index(
        "ix_device_streetlight_faults_open",
        "device_streetlight_faults",
        ["light_id", "kind", "cleared_at"],
    )
    op.create_index(
        op.f("ix_device_streetlight_faults_detected_at"),
        "device_streetlight_faults",
        ["detected_at"],
    )
    op.create_index(
        op.f("ix_device_streetlight_faults_place_code"),
        "device_streetlight_faults",
        ["place_code"],
    )


def downgrade() -> None:
    op.drop_table("device_streetlight_faults")
    op.drop_table("device_streetlight_operations")
    op.drop_table("device_camera_events")
