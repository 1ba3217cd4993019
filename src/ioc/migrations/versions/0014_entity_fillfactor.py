"""ngsi_entities: leave a fifth of each page free on PostgreSQL

Devices rewrite their entities all day. With full pages every new row version lands on
another page and all five indexes (GiST location included) get a new entry; with room on the
page, PostgreSQL updates in place (HOT) when no indexed column changed, which is the common
case (a reading, a state), and the indexes are left alone.

Revision ID: 0014_entity_fillfactor
Revises: 0013_alerts
Create Date: 2026-11-26 19:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014_entity_fillfactor"
down_revision: str | None = "0013_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 80


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Pages written from now on keep the room; existing ones get it at the next rewrite
        # (VACUUM FULL / pg_repack), which an operator may run in a quiet hour.
        op.execute(f"ALTER TABLE ngsi_entities SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ngsi_entities RESET (fillfactor)")
