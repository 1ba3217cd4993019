"""The Alembic migrations build exactly the tables the models describe, on an empty database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ioc.core.db import Base, Database
from ioc.core.migrate import (
    current_revision,
    head_revision,
    import_models,
    include_object,
    upgrade,
)


def test_migrations_match_the_models(empty_db_url: str) -> None:
    import_models()
    database = Database(empty_db_url)
    try:
        before, after = upgrade(database)
        assert before is None and after == head_revision()
        with database.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_object": include_object}
                ),
                Base.metadata,
            )
        assert diff == [], f"models and migrations differ; write a migration: {diff}"
        assert upgrade(database) == (after, after)  # running again changes nothing
        assert current_revision(database) == head_revision()
        if database.dialect == "postgresql":
            with database.engine.connect() as conn:
                assert (
                    conn.exec_driver_sql(
                        "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'"
                    ).scalar()
                    == 1
                )
    finally:
        database.dispose()
