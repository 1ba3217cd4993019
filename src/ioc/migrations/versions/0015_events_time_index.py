"""events: drop the index on time

No query reads events by time (the relay and ``GET /events`` go by id), yet every event
written — one per entity change, thousands a second from devices — paid an entry in it, and
again when the relay marked the row published.

Revision ID: 0015_events_time_index
Revises: 0014_entity_fillfactor
Create Date: 2026-11-26 22:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_events_time_index"
down_revision: str | None = "0014_entity_fillfactor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_time"))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_time"), ["time"], unique=False)
