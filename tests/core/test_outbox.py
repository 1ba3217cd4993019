"""The outbox relay: committed events reach the bus once, in order; failures lose nothing."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from ioc.core.bus import Accepts, Bus, BusError, Handler, InProcessBus, Subscription
from ioc.core.bus_nats import NatsBus
from ioc.core.db import Database
from ioc.core.events import Event, emit
from ioc.core.models import OutboxEvent
from ioc.core.outbox import OutboxRelay, install_commit_hook
from tests.core.conftest import NATS_URL, Inbox


class FlakyBus(Bus):
    """An in-process bus that refuses events while ``broken``, or after ``accept`` more."""

    def __init__(self, accept: int | None = None) -> None:
        self.inner = InProcessBus()
        self.broken = False
        self.accept = accept

    @property
    def name(self) -> str:
        return "flaky"

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def publish(self, event: Event) -> None:
        if self.accept is not None:
            if self.accept <= 0:
                raise BusError("bus down")
            self.accept -= 1
        if self.broken:
            raise BusError("bus down")
        await self.inner.publish(event)

    async def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        durable: str | None = None,
        accepts: Accepts | None = None,
    ) -> Subscription:
        return await self.inner.subscribe(pattern, handler, durable=durable, accepts=accepts)


def emit_many(database: Database, *types: str) -> list[int]:
    with database.session("user:1") as session:
        rows = [emit(session, t, {"n": i}, place_code="17") for i, t in enumerate(types)]
    return [row.id for row in rows]


def unpublished(database: Database) -> list[int]:
    with database.session() as session:
        stmt = select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None))
        return list(session.scalars(stmt.order_by(OutboxEvent.id)))


@pytest.mark.anyio
async def test_flush_publishes_a_committed_event_and_marks_it(database: Database) -> None:
    async with InProcessBus() as bus:
        inbox = Inbox()
        await bus.subscribe("feedback.*", inbox)
        relay = OutboxRelay(database, bus)
        with database.session("user:9") as session:
            row = emit(session, "feedback.created", {"id": 42}, subject="feedback/42")
            await bus.drain()
            assert inbox.events == []  # nothing leaves before the commit
        assert await relay.flush() == 1
        await bus.drain()
        assert await relay.flush() == 0  # and nothing leaves twice
    [event] = inbox.events
    assert (event.type, event.data, event.actor, event.subject) == (
        "feedback.created",
        {"id": 42},
        "user:9",
        "feedback/42",
    )
    assert (event.id, event.seq) == (row.event_id, row.id)
    with database.session() as session:
        stored = session.get(OutboxEvent, row.id)
        assert stored is not None and stored.published_at is not None
        assert stored.published_at >= stored.time


@pytest.mark.anyio
async def test_a_rolled_back_session_publishes_nothing(database: Database) -> None:
    async with InProcessBus() as bus:
        inbox = Inbox()
        await bus.subscribe(">", inbox)
        relay = OutboxRelay(database, bus)
        with pytest.raises(RuntimeError), database.session() as session:
            emit(session, "feedback.created", {"id": 1})
            session.flush()
            raise RuntimeError("validation failed after the write")
        assert await relay.flush() == 0
        await bus.drain()
    assert inbox.events == []
    assert unpublished(database) == []


@pytest.mark.anyio
async def test_a_failing_bus_loses_nothing_and_order_holds(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    bus = FlakyBus(accept=1)
    async with bus:
        inbox = Inbox()
        await bus.subscribe(">", inbox)
        relay = OutboxRelay(database, bus, batch_size=2)
        ids = emit_many(database, "a.one", "a.two", "a.three", "a.four", "a.five")
        with caplog.at_level(logging.WARNING, logger="ioc.core.outbox"):
            assert await relay.flush() == 1  # the bus died after the first event
        assert "bus down" in caplog.text
        assert unpublished(database) == ids[1:]

        bus.accept, bus.broken = None, True
        assert await relay.flush() == 0
        assert unpublished(database) == ids[1:]

        bus.broken = False
        assert await relay.flush() == 4
        await bus.inner.drain()
    assert [e.type for e in inbox.events] == ["a.one", "a.two", "a.three", "a.four", "a.five"]
    assert [e.seq for e in inbox.events] == ids
    assert unpublished(database) == []


@pytest.mark.anyio
async def test_commit_hook_wakes_the_running_relay_from_another_thread(
    database: Database,
) -> None:
    async with InProcessBus() as bus:
        inbox = Inbox()
        await bus.subscribe("feedback.*", inbox)
        relay = OutboxRelay(database, bus, interval=60)  # only notify() can be fast enough
        hook = install_commit_hook(database.sessionmaker, relay)
        await relay.start()
        try:
            await asyncio.sleep(0.05)  # the first round has run and the relay is waiting
            await asyncio.to_thread(emit_many, database, "feedback.created")
            await inbox.wait_for(1, timeout=5)
            await asyncio.to_thread(emit_many, database, "feedback.closed", "feedback.reopened")
            await inbox.wait_for(3, timeout=5)
        finally:
            await relay.stop()
            sa_event.remove(database.sessionmaker, "after_commit", hook)
    assert [e.type for e in inbox.events] == [
        "feedback.created",
        "feedback.closed",
        "feedback.reopened",
    ]


@pytest.mark.anyio
async def test_the_interval_catches_what_no_one_announced(database: Database) -> None:
    async with InProcessBus() as bus:
        inbox = Inbox()
        await bus.subscribe(">", inbox)
        relay = OutboxRelay(database, bus, interval=0.05)
        await relay.start()
        try:
            emit_many(database, "quiet.write")
            await inbox.wait_for(1, timeout=5)
        finally:
            await relay.stop()


@pytest.mark.anyio
async def test_stop_makes_a_last_flush(database: Database) -> None:
    async with InProcessBus() as bus:
        inbox = Inbox()
        await bus.subscribe(">", inbox)
        relay = OutboxRelay(database, bus, interval=60)
        await relay.start()
        await asyncio.sleep(0.05)
        emit_many(database, "late.write")
        await relay.stop()
        await relay.stop()  # twice is harmless
        await bus.drain()
    assert [e.type for e in inbox.events] == ["late.write"]


class SlowBus(InProcessBus):
    """Yields on every publish, one event at a time, so concurrent relays really interleave."""

    async def publish(self, event: Event) -> None:
        await asyncio.sleep(0.002)
        await super().publish(event)

    publish_many = Bus.publish_many


@pytest.mark.anyio
async def test_concurrent_relays_never_publish_a_row_twice(
    database: Database, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("several relays at once need FOR UPDATE SKIP LOCKED (PostgreSQL)")
    ids = emit_many(database, *[f"bulk.n{i}" for i in range(40)])
    async with SlowBus() as bus:
        inbox = Inbox()
        await bus.subscribe(">", inbox)
        relays = [OutboxRelay(database, bus, batch_size=3) for _ in range(3)]
        counts = await asyncio.gather(*(relay.flush() for relay in relays))
        await bus.drain()
    assert sum(counts) == 40
    assert sorted(e.seq for e in inbox.events if e.seq is not None) == ids
    assert unpublished(database) == []


@asynccontextmanager
async def nats_bus() -> AsyncIterator[NatsBus]:
    """A started bus on a stream and subject prefix of its own, deleted afterwards."""
    tag = uuid.uuid4().hex[:12]
    bus = NatsBus(NATS_URL, f"IOC_TEST_{tag}", prefix=f"ioctest{tag}")
    try:
        async with bus:
            yield bus
    finally:
        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().delete_stream(bus.stream)
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await nc.close()


@pytest.mark.nats
@pytest.mark.anyio
async def test_relay_over_nats_end_to_end(database: Database) -> None:
    async with nats_bus() as bus:
        inbox = Inbox()
        await bus.subscribe("feedback.>", inbox, durable="e2e")
        relay = OutboxRelay(database, bus)
        ids = emit_many(database, "feedback.created", "feedback.status.changed")
        assert await relay.flush() == 2
        await inbox.wait_for(2)
        assert unpublished(database) == []

        # A relay that crashed after the ack but before its commit publishes again ...
        with database.session() as session:
            session.execute(update(OutboxEvent).values(published_at=None))
        assert await relay.flush() == 2
        marker = emit_many(database, "feedback.marker")
        assert await relay.flush() == 1
        await inbox.wait_for(3)
        await asyncio.sleep(0.1)
    # ... and JetStream drops the copies by their Nats-Msg-Id.
    assert [e.seq for e in inbox.events] == ids + marker
    assert [e.type for e in inbox.events] == [
        "feedback.created",
        "feedback.status.changed",
        "feedback.marker",
    ]


@pytest.mark.anyio
async def test_the_relay_goes_on_while_requests_hold_every_pooled_connection(db_url: str) -> None:
    """Its connection is its own: a pool exhausted by requests does not stall the events."""
    database = Database(db_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        ids = emit_many(database, "busy.one", "busy.two")
        async with InProcessBus() as bus:
            inbox = Inbox()
            await bus.subscribe(">", inbox)
            relay = OutboxRelay(database, bus)
            with database.engine.connect():  # a request holds the pool's only connection
                assert await relay.flush() == 2
            await bus.drain()
        assert [e.seq for e in inbox.events] == ids
        assert unpublished(database) == []
    finally:
        database.dispose()


@pytest.mark.anyio
async def test_commits_in_quick_succession_are_published_in_few_rounds(
    database: Database,
) -> None:
    async with InProcessBus() as bus:
        inbox = Inbox()
        await bus.subscribe(">", inbox)
        relay = OutboxRelay(database, bus, interval=60, gather=0.5)
        hook = install_commit_hook(database.sessionmaker, relay)
        rounds = 0
        flush = relay.flush

        async def counted() -> int:
            nonlocal rounds
            rounds += 1
            return await flush()

        relay.flush = counted  # type: ignore[method-assign]
        await relay.start()
        try:
            await asyncio.sleep(0.05)  # the first round has run
            for i in range(10):
                await asyncio.to_thread(emit_many, database, f"burst.n{i}")
            await inbox.wait_for(10, timeout=5)
        finally:
            await relay.stop()
            sa_event.remove(database.sessionmaker, "after_commit", hook)
    assert [e.type for e in inbox.events] == [f"burst.n{i}" for i in range(10)]
    assert rounds <= 4  # the first, one or two for the burst, the last at stop; not ten
