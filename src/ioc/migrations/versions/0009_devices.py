"""devices: cameras, analytics events, streetlight operations

Revision ID: 0009_devices
Revises: 0008_ingest
Create Date: 2026-11-26 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_devices"
down_revision: str | None = "0008_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
