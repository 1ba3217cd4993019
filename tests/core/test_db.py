"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when found dead."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ioc.core import db as db_module
from ioc.core.db import Database


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
