"""Engines and sessions for the embedded SQLite file or PostgreSQL (with PostGIS)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")
IDLE_PING_SECONDS = 2.0  # a pooled connection idle longer than this is pinged before use
# How long a request waits for a pooled connection before it fails (503) rather than the
# default 30 s: by then its client has given up, and the wait only lengthens the queue.
POOL_TIMEOUT_SECONDS = 5.0


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        list[Any]: JSONType,
    }


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _write_lock_before_savepoint(conn: Connection, _name: str) -> None:
    """Take SQLite's write lock before the first SAVEPOINT of a transaction.

    Python's sqlite3 starts a transaction itself only before a write, but a SAVEPOINT outside
    one starts a deferred transaction: its reads fix a snapshot, and the first write then fails
    at once with "database is locked" (no busy wait) if anyone committed since. A savepoint is
    taken to undo writes, so the transaction is going to write: BEGIN IMMEDIATE waits its
    turn (busy_timeout) and never holds a stale snapshot.
    """
    dbapi_conn = conn.connection.dbapi_connection
    if dbapi_conn is not None and not dbapi_conn.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle for IDLE_PING_SECONDS.

    A server restart or a dropped link shows on connections that waited in the pool; one
    handed back a moment ago is alive. Pinging every checkout (``pool_pre_ping``) costs a
    round trip per request; a dead idle connection is replaced before anyone sees it.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # brand new, or back in the pool only a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the idle connection is gone; the pool makes another") from exc


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys on, or PostgreSQL."""
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _write_lock_before_savepoint)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("json_deserializer", orjson.loads)  # events and history read back fast
    engine = create_engine(url, **kwargs)
    _ping_idle_connections(engine)
    return engine


class Database:
    """One engine and its session factory; the app and the CLI each hold one."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._dedicated: dict[str, Engine] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, actor: str = "system") -> Iterator[Session]:
        """A session whose writes are audited as ``actor``; commits on success."""
        with self.sessionmaker() as session:
            session.info["actor"] = actor
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dedicated(self, name: str) -> Engine:
        """A one-connection engine of its own for a background task, named ``name``.

        A task that takes its connection from the shared pool waits behind every request when
        the pool is exhausted; with its own it keeps going. An in-memory SQLite database exists
        only in its connection, so there the shared engine is the only one.
        """
        if self.engine.url.database in (None, "", ":memory:"):
            return self.engine
        engine = self._dedicated.get(name)
        if engine is None:
            engine = self._dedicated[name] = make_engine(self.url, pool_size=1, max_overflow=0)
        return engine

    def dispose(self) -> None:
        for engine in self._dedicated.values():
            engine.dispose()
        self._dedicated.clear()
        self.engine.dispose()
