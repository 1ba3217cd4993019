"""feedback external id: an imported message's id in its source system

Revision ID: 0003_feedback_external_id
Revises: 0002_feedback
Create Date: 2026-11-26 12:22:40.517556
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_feedback_external_id"
down_revision: str | None = "0002_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# No batch_alter_table: on SQLite a batch rebuild drops and recreates feedback_requests, and
# with foreign keys on that DROP cascades to feedback_notes and empties every timeline.
# ADD COLUMN, CREATE INDEX and (SQLite >= 3.35) DROP COLUMN all work in place on both backends.


def upgrade() -> None:
    op.add_column("feedback_requests", sa.Column("external_id", sa.String(length=100)))
    op.create_index(
        "ix_feedback_requests_channel_external_id",
        "feedback_requests",
        ["channel", "external_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_requests_channel_external_id", table_name="feedback_requests")
    op.drop_column("feedback_requests", "external_id")
