"""ingest: device registry, commands, dead letters

Revision ID: 0008_ingest
Revises: 0007_context_subscriptions
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "0008_ingest"
down_revision: str | None = "0007_context_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = ioc.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ingest_devices",
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("apikey", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=512), nullable=False),
        sa.Column("entity_type", sa.String(length=512), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("commands", JSON, nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["place_code"], ["places.code"], name=op.f("fk_ingest_devices_place_code_places")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_ingest_devices")),
    )
    op.create_index("ix_ingest_devices_apikey", "ingest_devices", ["apikey", "device_id"])
    op.create_index(op.f("ix_ingest_devices_place_code"), "ingest_devices", ["place_code"])
    op.create_table(
        "ingest_commands",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("sent_at", When, nullable=True),
        sa.Column("done_at", When, nullable=True),
        sa.Column("expires_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_commands")),
    )
    op.create_index("ix_ingest_commands_device", "ingest_commands", ["device_id", "status"])
    op.create_index(op.f("ix_ingest_commands_status"), "ingest_commands", ["status"])
    op.create_index(op.f("ix_ingest_commands_place_code"), "ingest_commands", ["place_code"])
    op.create_table(
        "ingest_dead_letters",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=512), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_dead_letters")),
    )
    op.create_index(op.f("ix_ingest_dead_letters_device_id"), "ingest_dead_letters", ["device_id"])
    op.create_index(
        op.f("ix_ingest_dead_letters_received_at"), "ingest_dead_letters", ["received_at"]
    )


def downgrade() -> None:
    op.drop_table("ingest_dead_letters")
    op.drop_table("ingest_commands")
    op.drop_table("ingest_devices")
