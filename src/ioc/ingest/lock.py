"""One MQTT bridge per client id, across processes and hosts."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from ioc.core.db import Database

log = logging.getLogger("ioc.ingest")
LOCK_RETRY_SECONDS = 5.0


class ClientLock:
    """One bridge per client id: a second one would take the MQTT session over from the
    first, and back, for ever (``ioc serve --workers 4``, or a bridge started twice).

    PostgreSQL: a session advisory lock on a connection of its own (any host); SQLite: an
    exclusive lock on a file beside the database (one host).
    """

    def __init__(self, database: Database, client_id: str) -> None:
        self.database = database
        self.client_id = client_id
        self._conn: Connection | None = None
        self._file: Any = None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; False otherwise (no waiting)."""
        if self.database.dialect == "postgresql":
            key = self._key()
            conn = self.database.dedicated("ingest-lock").connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return bool(got)
        path = Path(self.database.engine.url.database or "ioc.db")
        lock = open(path.with_name(f"{path.name}.{self.client_id}.lock"), "a+")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            return False
        self._file = lock
        return True

    def _key(self) -> int:
        digest = hashlib.sha256(b"ioc-ingest:" + self.client_id.encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def release(self) -> None:
        if self._conn is not None:  # pooled: the connection lives on, so unlock first
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key()})
            self._conn.commit()
            self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None


async def run_exclusive(
    database: Database, client_id: str, run: Callable[[], Awaitable[None]]
) -> None:
    """``run()`` while holding the client id's lock; wait for the lock if another has it."""
    lock = ClientLock(database, client_id)
    waiting = False
    while not await asyncio.to_thread(lock.acquire):
        if not waiting:
            log.info("another bridge runs as %s; waiting to take over", client_id)
            waiting = True
        await asyncio.sleep(LOCK_RETRY_SECONDS)
    try:
        await run()
    finally:
        lock.release()
