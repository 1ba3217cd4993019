"""Fixtures shared by the whole suite; ``--db postgresql`` runs it on PostgreSQL+PostGIS."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ioc.core.db import Database
from ioc.core.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "IOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEMPLATE_DB = "ioc_test_template"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("IOC_TEST_DB", "sqlite"),
        help="database backend the suite runs on (default: sqlite; env IOC_TEST_DB)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"ioc backend: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


def _pg_url(dbname: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=dbname).render_as_string(hide_password=False)


def _pg_admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def template_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database that each test copies (a file, or a PostgreSQL template)."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        database = Database(f"sqlite:///{path}")
        upgrade(database)
        with database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.dispose()
        yield str(path)
        return
    _pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {TEMPLATE_DB}")
    database = Database(_pg_url(TEMPLATE_DB))
    upgrade(database)
    database.dispose()
    yield TEMPLATE_DB
    _pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")


@pytest.fixture
def db_url(backend: str, template_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of the chosen backend for one test."""
    if backend == "sqlite":
        path = tmp_path / "ioc.db"
        shutil.copyfile(template_url, path)
        yield f"sqlite:///{path}"
        return
    name = f"ioc_t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f"CREATE DATABASE {name} TEMPLATE {template_url}")
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()
