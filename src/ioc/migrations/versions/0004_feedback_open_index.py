"""feedback open index: the open requests of a service by position and time (likely duplicates)

Revision ID: 0004_feedback_open_index
Revises: 0003_feedback_external_id
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_feedback_open_index"
down_revision: str | None = "0003_feedback_external_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WHERE = "status IN ('assigned', 'in_progress', 'received')"  # as ioc.feedback.models says


def upgrade() -> None:
    op.create_index(
        "ix_feedback_requests_open_service_position",
        "feedback_requests",
        ["service_code", "lat", "lon", "requested_at"],
        sqlite_where=sa.text(OPEN_WHERE),
        postgresql_where=sa.text(OPEN_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_requests_open_service_position", table_name="feedback_requests")
