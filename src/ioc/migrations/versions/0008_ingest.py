"""ingest: device registry, commands, dead letters

Revision ID: 0008_ingest
Revises: 0007_context_subscriptions
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_ingest"
down_revision: str | None = "0007_context_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
