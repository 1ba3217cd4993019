"""context broker: temporal store (attribute history)

Revision ID: 0006_context_temporal
Revises: 0005_context
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_context_temporal"
down_revision: str | None = "0005_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
