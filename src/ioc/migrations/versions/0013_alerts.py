"""alerts: incidents raised by rules over bus events

Revision ID: 0013_alerts
Revises: 0012_gis
Create Date: 2026-11-26 19:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "0013_alerts"
down_revision: str | None = "0012_gis"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = ioc.core.db.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ACTIVE_WHERE = "status IN ('open', 'acknowledged')"


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("place_code", sa.String(length=10), nullable=True),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("raised_at", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("acknowledged_at", TIME, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("acknowledged_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.Column("resolved_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["place_code"], ["places.code"], name=op.f("fk_alerts_place_code_places")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_place_code"), "alerts", ["place_code"], unique=False)
    op.create_index("ix_alerts_status_raised", "alerts", ["status", "raised_at"], unique=False)
    op.create_index(
        "ux_alerts_active_rule_source",
        "alerts",
        ["rule", "source"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_WHERE),
        postgresql_where=sa.text(ACTIVE_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ux_alerts_active_rule_source", table_name="alerts")
    op.drop_index("ix_alerts_status_raised", table_name="alerts")
    op.drop_index(op.f("ix_alerts_place_code"), table_name="alerts")
    op.drop_table("alerts")
