"""context broker: temporal store (attribute history)

Revision ID: 0006_context_temporal
Revises: 0005_context
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ioc.core.db

revision: str = "0006_context_temporal"
down_revision: str | None = "0005_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ngsi_attribute_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column(
            "entity_id",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(length=512), nullable=False),
        sa.Column("attr", sa.String(length=512), nullable=False),
        sa.Column("dataset_id", sa.String(length=512), nullable=True),
        sa.Column("observed_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", ioc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Text(), nullable=True, comment="the value member as JSON"),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("meta", sa.Text(), nullable=False, comment="the rest of the instance as JSON"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ngsi_attribute_history")),
    )
    op.create_index(
        "ix_ngsi_history_series",
        "ngsi_attribute_history",
        ["tenant", "entity_id", "attr", "observed_at"],
    )


def downgrade() -> None:
    op.drop_table("ngsi_attribute_history")  # its index goes with it
