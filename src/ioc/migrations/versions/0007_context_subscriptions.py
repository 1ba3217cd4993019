"""context broker: subscriptions and notifications

Revision ID: 0007_context_subscriptions
Revises: 0006_context_temporal
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_context_subscriptions"
down_revision: str | None = "0006_context_temporal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
