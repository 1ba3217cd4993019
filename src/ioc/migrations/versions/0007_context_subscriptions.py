"""context broker: subscriptions and notifications

Revision ID: 0007_context_subscriptions
Revises: 0006_context_temporal
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ioc.core.db

revision: str = "0007_context_subscriptions"
down_revision: str | None = "0006_context_temporal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ngsi_subscriptions",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column(
            "id",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=120), nullable=False, comment="actor who created it"),
        sa.Column("document", JSON, nullable=False),
        sa.Column("receiver_info", JSON, nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("times_sent", sa.Integer(), nullable=False),
        sa.Column("times_failed", sa.Integer(), nullable=False),
        sa.Column("last_notification", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure", ioc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "id", name=op.f("pk_ngsi_subscriptions")),
    )


def downgrade() -> None:
    op.drop_table("ngsi_subscriptions")
