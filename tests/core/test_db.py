"""Pooled connections: pinged only after sitting idle, replaced when found dead; SQLite's
savepoints take the write lock first, so a write after them never meets a stale snapshot."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from ioc.core import db as db_module
from ioc.core.db import Database
from ioc.core.models import Meta


def _pid(database: Database) -> int:
    with database.session() as s:
        pid: int = s.scalar(text("SELECT pg_backend_pid()"))
        return pid


def test_a_connection_idle_and_dead_is_replaced_before_use(
    database: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgresql":
        pytest.skip("only server connections can die in the pool")
    pings = 0
    ping = database.engine.dialect.do_ping

    def counted(conn: object) -> bool:
        nonlocal pings
        pings += 1
        return ping(conn)

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)
    first = _pid(database)
    assert _pid(database) == first and pings == 0  # handed back a moment ago: no ping

    admin = Database(database.url)
    try:  # the server drops the pooled connection: a restart, a proxy's idle timeout
        with admin.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        admin.dispose()
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)  # as if it sat idle long enough
    assert _pid(database) != first  # the ping failed and the pool made another
    assert pings >= 1


def test_a_write_inside_a_savepoint_waits_its_turn_instead_of_failing(database: Database) -> None:
    """Another writer commits between a savepoint's read and its write: both writes land."""
    other_done = threading.Event()

    def other_writer() -> None:
        with database.session() as other:
            other.add(Meta(key="other", value="1"))
        other_done.set()

    with database.session() as session, session.begin_nested():
        session.scalars(select(Meta.key)).all()  # a read: on SQLite, a snapshot
        thread = threading.Thread(target=other_writer)
        thread.start()
        other_done.wait(1.0)  # PostgreSQL: committed; SQLite: waiting for our lock
        session.add(Meta(key="mine", value="2"))
        session.flush()  # without the lock taken first: "database is locked" at once
    thread.join(15)
    assert other_done.is_set()
    with database.session() as session:
        keys = set(session.scalars(select(Meta.key).where(Meta.key.in_(["other", "mine"]))))
    assert keys == {"other", "mine"}
