"""Bring a database's schema up to date (Alembic)."""

from __future__ import annotations

from ioc.core.db import Base, Database


def upgrade(database: Database) -> None:
    """Create or upgrade every table."""
    from ioc.core import models  # noqa: F401  (registers the tables)

    Base.metadata.create_all(database.engine)
