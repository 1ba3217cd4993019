"""The outbox relay: publishes events committed with their writes, so none is lost or invented."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    any_,
    event,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from ioc.core.bus import Bus, PartlyPublished
from ioc.core.db import Database, utcnow
from ioc.core.events import ROW_COLUMNS, Event
from ioc.core.models import OutboxEvent

log = logging.getLogger(__name__)


class OutboxRelay:
    """Moves committed ``events`` rows onto the bus in id order, marking each once accepted.

    Delivery is at least once: a crash between the bus's ack and the commit of
    ``published_at`` re-publishes the row, which NATS drops by its ``Nats-Msg-Id``.
    On PostgreSQL several relays may run at once (``FOR UPDATE SKIP LOCKED``); on SQLite run one.
    The relay has a connection of its own (``Database.dedicated``), so a pool exhausted by
    requests never stalls it; under a stream of commits its rounds start at most every
    ``gather`` seconds, each publishing what the commits since the last one announced.
    """

    def __init__(
        self,
        database: Database,
        bus: Bus,
        *,
        interval: float = 1.0,
        batch_size: int = 500,
        gather: float = 0.05,
    ) -> None:
        self.database = database
        self.bus = bus
        self.interval = interval
        self.batch_size = batch_size
        self.gather = gather
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        e = OutboxEvent
        self._unpublished = (
            select(*(getattr(e, name) for name in ROW_COLUMNS))
            .where(e.published_at.is_(None))
            .order_by(e.id)
            .limit(batch_size)
        )
        if database.dialect == "postgresql":
            # Rows another relay is publishing stay locked until it commits: skip them.
            self._unpublished = self._unpublished.with_for_update(skip_locked=True)
            # ...read through the driver itself: a thousand rows a second need no result
            # processing, so the statement is compiled once
            compiled = self._unpublished.compile(
                dialect=database.engine.dialect, compile_kwargs={"literal_binds": True}
            )
            self._unpublished_sql = str(compiled)

    async def flush(self) -> int:
        """Publish everything pending now; returns how many events the bus accepted."""
        async with self._lock:
            total = 0
            while True:
                published, more = await self._relay_batch()
                total += published
                if not more:
                    return total

    async def _relay_batch(self) -> tuple[int, bool]:
        """One batch in one transaction; says how many went out and whether to go on."""
        conn, rows = await asyncio.to_thread(self._claim)
        if conn is None:
            return 0, False
        try:
            accepted = len(rows)
            try:
                await self.bus.publish_many([Event.from_row(row) for row in rows])
            except PartlyPublished as exc:
                accepted = exc.accepted
                log.warning(
                    "the %s bus refused event #%d %s (%s); %d left for the next round",
                    self.bus.name,
                    rows[accepted][0],
                    rows[accepted][2],
                    exc.cause,
                    len(rows) - accepted,
                )
            published = [row[0] for row in rows[:accepted]]
            await asyncio.to_thread(self._mark, conn, published)
            return len(published), len(published) == self.batch_size
        finally:
            if not conn.closed:  # publishing or marking failed: roll back, off the loop
                await asyncio.to_thread(conn.close)

    def _claim(self) -> tuple[Connection | None, list[Sequence[Any]]]:
        """The next batch of unpublished rows (``ROW_COLUMNS``), and the connection whose
        transaction holds them."""
        conn = self.database.dedicated("outbox").connect()
        try:
            if self.database.dialect == "postgresql":
                driver: Any = conn.connection.driver_connection
                with driver.cursor() as cursor:
                    cursor.execute(self._unpublished_sql)
                    rows: list[Sequence[Any]] = [
                        (seq, eid, kind, at.astimezone(dt.UTC), *rest)
                        for seq, eid, kind, at, *rest in cursor.fetchall()
                    ]
            else:
                rows = list(conn.execute(self._unpublished).all())
        except BaseException:
            conn.close()
            raise
        if not rows:
            conn.close()  # nothing to publish: give the connection back at once
            return None, []
        return conn, rows

    def _mark(self, conn: Connection, ids: list[int]) -> None:
        """Stamp the published rows in one statement, commit, and give the connection back."""
        try:
            if ids:
                which: ColumnElement[bool] = OutboxEvent.id.in_(ids)
                if self.database.dialect == "postgresql":  # one array: one cached statement
                    which = OutboxEvent.id == any_(literal(ids, ARRAY(BigInteger)))
                stamp = update(OutboxEvent).where(which)
                conn.execute(stamp.values(published_at=utcnow()))
                conn.commit()
        finally:
            conn.close()

    def notify(self) -> None:
        """Ask for a flush soon; safe from any thread (e.g. a commit hook in a threadpool)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Flush on every ``notify()``, and every ``interval`` seconds in case one was missed."""
        self._loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            started = self._loop.time()
            try:
                await self.flush()
            except Exception:
                log.exception("outbox relay round failed; retrying in %.1fs", self.interval)
            if self._stopping:
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            # Commits in quick succession: let them gather so that one round publishes them all.
            rest = started + self.gather - self._loop.time()
            if rest > 0 and not self._stopping:
                await asyncio.sleep(rest)

    async def start(self) -> None:
        """Run the relay in a background task until ``stop()``."""
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self.run(), name="outbox-relay")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the round in progress and a last flush, then end the task."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait([task], timeout=timeout)
        if not done:
            log.warning("outbox relay did not stop within %.1fs; cancelling it", timeout)
            task.cancel()
            await asyncio.wait([task])
        self._loop = None


def install_commit_hook(
    target: sessionmaker[Any] | type[Session], relay: OutboxRelay
) -> Callable[[Session], None]:
    """Wake ``relay`` after each commit that emitted events; returns the listener for removal."""

    def after_commit(session: Session) -> None:
        if session.info.get("emitted"):
            session.info["emitted"] = 0
            relay.notify()

    event.listen(target, "after_commit", after_commit)
    return after_commit
