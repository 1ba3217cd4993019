"""Bring a database's schema up to date with the Alembic migrations shipped in the package."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ioc.core.db import Database
from ioc.core.problems import ServiceUnavailable

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Every capability's tables; migrations and tests import them all through import_models().
MODEL_MODULES = (
    "ioc.core.models",
    "ioc.feedback.models",
    "ioc.context.models",
    "ioc.context.temporal_models",
    "ioc.context.subscription_models",
    "ioc.ingest.models",
    "ioc.devices.models",
    "ioc.services.models",
    "ioc.indicators.models",
    "ioc.gis.models",
    "ioc.alerts.models",
)
# Tables the PostGIS extension owns; migrations must never try to drop them.
EXTENSION_TABLES = frozenset({"spatial_ref_sys", "geometry_columns", "geography_columns"})
# SQLite R*Tree indexes a migration builds beside a table (ioc.gis: "<table>_rtree").
SQLITE_RTREE = "_rtree"


def import_models() -> None:
    """Register every capability's tables on the shared metadata."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave out extension-owned tables, and indexes a model builds on one backend only.

    Alembic cannot evaluate an index's ``ddl_if(dialect=...)``, so one the database lacks is
    not reported; the capability's own tests check it exists where it should (the PostGIS
    GiST index of NGSI-LD entities: tests/context/test_geo.py).
    """
    if type_ == "table" and reflected and name in EXTENSION_TABLES:
        return False
    if type_ == "table" and reflected and name is not None and SQLITE_RTREE in name:
        return False  # an SQLite R*Tree virtual table (and its shadow tables): no model's
    conditional = getattr(obj, "_ddl_if", None) is not None
    return not (type_ == "index" and not reflected and compare_to is None and conditional)


def alembic_config(database: Database | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database is not None:
        config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_postgis(database: Database) -> None:
    """PostgreSQL deployments keep geometry in PostGIS; say plainly how to get it if missing."""
    if database.dialect != "postgresql":
        return
    try:
        with database.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except DBAPIError as exc:
        raise ServiceUnavailable(
            "PostGIS is not available in this PostgreSQL server: install it (Debian: "
            "apt-get install postgresql-15-postgis-3) or have the DBA run "
            f"CREATE EXTENSION postgis; ({exc.orig})"
        ) from exc


def upgrade(database: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate to ``revision``; returns (revision before, revision after)."""
    ensure_postgis(database)
    before = current_revision(database)
    with database.engine.begin() as conn:
        config = alembic_config(database)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return before, current_revision(database)
