"""Fixtures shared by the whole suite; ``--db postgresql`` runs it on PostgreSQL+PostGIS."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.migrate import upgrade
from ioc.demo.builder import DEMO_PASSWORD

PG_ADMIN_URL = os.environ.get(
    "IOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEMPLATE_DB = f"ioc_test_template_{uuid.uuid4().hex[:8]}"  # unique: suites may run side by side
SHUTDOWN_WATCH_SECONDS = 120  # an app's shutdown taking longer prints what it still awaits
DEMO_FEEDBACK_DAYS = 14  # ~2,100 requests: the shape of the demo, small enough to copy per test


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


def _sqlite_snapshot(database: Database, path: Path) -> str:
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return str(path)


def _clone(backend: str, template: str, tmp_path: Path, name: str = "ioc") -> str:
    """Copy a template database; returns the copy's URL."""
    if backend == "sqlite":
        path = tmp_path / f"{name}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    db_name = f"ioc_t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f"CREATE DATABASE {db_name} TEMPLATE {template}")
    return _pg_url(db_name)


def _drop(backend: str, url: str) -> None:
    if backend == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")


@pytest.fixture(scope="session")
def template_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database that each test copies (a file, or a PostgreSQL template)."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        database = Database(f"sqlite:///{path}")
        upgrade(database)
        yield _sqlite_snapshot(database, path)
        return
    _pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {TEMPLATE_DB}")
    database = Database(_pg_url(TEMPLATE_DB))
    upgrade(database)
    database.dispose()
    yield TEMPLATE_DB
    _pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")


@pytest.fixture(scope="session")
def demo_template_url(
    backend: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The demo province (places, agencies, a user per role, two weeks of feedback), built once."""
    from ioc.demo.builder import build_demo

    tmp = tmp_path_factory.mktemp("demo-template")
    url = _clone(backend, template_url, tmp, "demo")
    database = Database(url)
    build_demo(database, feedback_days=DEMO_FEEDBACK_DAYS)
    if backend == "sqlite":
        yield _sqlite_snapshot(database, tmp / "demo.db")
        return
    database.dispose()
    name = str(make_url(url).database)
    yield name
    _drop(backend, url)


@pytest.fixture
def db_url(backend: str, template_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database of the chosen backend for one test."""
    url = _clone(backend, template_url, tmp_path)
    yield url
    _drop(backend, url)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, as an operator's brand-new one."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"ioc_t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f"CREATE DATABASE {name}")
    url = _pg_url(name)
    yield url
    _drop(backend, url)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def demo_db(backend: str, demo_template_url: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the demo database (Hòa Bình) for one test to change at will."""
    url = _clone(backend, demo_template_url, tmp_path)
    database = Database(url)
    yield database
    database.dispose()
    _drop(backend, url)


@pytest.fixture
def app_factory(demo_db: Database) -> Iterator[Callable[..., TestClient]]:
    """Make a TestClient (lifespan running) over the demo database with chosen settings."""
    clients: list[TestClient] = []

    def make(**settings: object) -> TestClient:
        from ioc.app import create_app
        from ioc.core.config import Settings

        app = create_app(Settings(database_url=demo_db.url, **settings), database=demo_db)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        watch = threading.Timer(SHUTDOWN_WATCH_SECONDS, _print_tasks, (client,))
        watch.start()
        try:
            client.__exit__(None, None, None)
        finally:
            watch.cancel()


def _print_tasks(client: TestClient) -> None:
    """Print the stack of every task on ``client``'s event loop: what a stuck shutdown awaits."""
    portal = client.portal
    if portal is not None:
        portal.start_task_soon(_dump_tasks)


async def _dump_tasks() -> None:
    print(f"app shutdown still waiting after {SHUTDOWN_WATCH_SECONDS}s:", file=sys.stderr)
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)


@pytest.fixture
def client(app_factory: Callable[..., TestClient]) -> TestClient:
    return app_factory()


@pytest.fixture
def auth(client: TestClient) -> Callable[..., dict[str, str]]:
    """``auth("admin")`` → Authorization headers for a demo user, logged in through the API."""

    def headers(username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
        response = client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return headers
