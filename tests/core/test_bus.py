"""The event bus: pattern matching, in-process fan-out, and NATS JetStream against a real server."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import nats
import pytest

from ioc.core.bus import (
    BusError,
    InProcessBus,
    PartlyPublished,
    make_bus,
    matches,
    validate_pattern,
    validate_type,
)
from ioc.core.bus_nats import NatsBus
from ioc.core.events import Event
from tests.core.conftest import NATS_URL, Inbox


@asynccontextmanager
async def scratch_stream() -> AsyncIterator[Callable[..., NatsBus]]:
    """A factory of buses on a stream and subject prefix of their own, deleted afterwards."""
    tag = uuid.uuid4().hex[:12]
    stream, prefix = f"IOC_TEST_{tag}", f"ioctest{tag}"

    def factory(max_age: float = 3600.0) -> NatsBus:
        return NatsBus(NATS_URL, stream, prefix=prefix, max_age=max_age, nak_delay=0.1)

    try:
        yield factory
    finally:
        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().delete_stream(stream)
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await nc.close()


# --------------------------------------------------------------------------- patterns


@pytest.mark.parametrize(
    ("pattern", "type_", "expected"),
    [
        ("feedback.created", "feedback.created", True),
        ("feedback.created", "feedback.updated", False),
        ("feedback.*", "feedback.created", True),
        ("feedback.*", "feedback", False),
        ("feedback.*", "feedback.status.changed", False),
        ("*.created", "dossier.created", True),
        ("feedback.>", "feedback.created", True),
        ("feedback.>", "feedback.status.changed", True),
        ("feedback.>", "feedback", False),
        ("feedback.>", "feedbackx.created", False),
        (">", "alert.raised", True),
        (">", "x", True),
        ("*", "x", True),
        ("*", "x.y", False),
        ("feedback.*.changed", "feedback.status.changed", True),
        ("feedback.*.changed", "feedback.status.updated", False),
    ],
)
def test_patterns_match_like_nats_subjects(pattern: str, type_: str, expected: bool) -> None:
    assert matches(pattern, type_) is expected


@pytest.mark.parametrize("pattern", ["", "feedback.", ".x", "a..b", "a.>.b", "fe*d", "a b", "a.b>"])
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="invalid event pattern"):
        validate_pattern(pattern)


@pytest.mark.parametrize("type_", ["feedback.*", ">", "a..b", ""])
def test_event_types_must_be_literal(type_: str) -> None:
    with pytest.raises(ValueError, match="invalid event type"):
        validate_type(type_)


def test_make_bus_picks_the_backend_from_the_url() -> None:
    assert isinstance(make_bus("memory://"), InProcessBus)
    bus = make_bus("nats://127.0.0.1:4222", "S")
    assert isinstance(bus, NatsBus)
    assert (bus.name, bus.url, bus.stream) == ("nats", "nats://127.0.0.1:4222", "S")
    with pytest.raises(ValueError, match="IOC_BUS_URL"):
        make_bus("redis://localhost")


# --------------------------------------------------------------------------- in-process


@pytest.mark.anyio
async def test_in_process_fan_out_to_matching_subscribers() -> None:
    async with InProcessBus() as bus:
        feedback, everything, alerts = Inbox(), Inbox(), Inbox()
        await bus.subscribe("feedback.*", feedback)
        await bus.subscribe(">", everything)
        await bus.subscribe("alert.>", alerts)
        created = Event("feedback.created", {"id": 7})
        await bus.publish(created)
        await bus.publish(Event("alert.raised"))
        await bus.drain()
    assert feedback.events == [created]
    assert everything.types == ["feedback.created", "alert.raised"]
    assert alerts.types == ["alert.raised"]


@pytest.mark.anyio
async def test_a_failing_handler_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    async def broken(event: Event) -> None:
        calls.append(event.id)
        raise RuntimeError("boom")

    async with InProcessBus() as bus:
        good = Inbox()
        await bus.subscribe("feedback.>", broken)
        await bus.subscribe("feedback.>", good)
        with caplog.at_level(logging.ERROR, logger="ioc.core.bus"):
            await bus.publish(Event("feedback.created"))  # the publisher hears nothing of it
            await bus.publish(Event("feedback.closed"))
            await bus.drain()
    assert good.types == ["feedback.created", "feedback.closed"]
    assert len(calls) == 2  # the broken subscriber keeps receiving
    assert "boom" in caplog.text


@pytest.mark.anyio
async def test_a_slow_handler_blocks_neither_publisher_nor_others() -> None:
    gate = asyncio.Event()

    async def slow(event: Event) -> None:
        await gate.wait()

    async with InProcessBus() as bus:
        fast = Inbox()
        await bus.subscribe(">", slow)
        await bus.subscribe(">", fast)
        for i in range(3):
            await bus.publish(Event("kpi.updated", {"i": i}))
        await fast.wait_for(3, timeout=1)
        gate.set()
        await bus.drain()


@pytest.mark.anyio
async def test_handlers_get_their_own_copy_and_unsubscribe_stops_delivery() -> None:
    async def meddle(event: Event) -> None:
        event.data["meddled"] = True

    async with InProcessBus() as bus:
        inbox = Inbox()
        await bus.subscribe(">", meddle)
        sub = await bus.subscribe(">", inbox)
        await bus.publish(Event("a.b", {"x": 1}))
        await bus.drain()
        await sub.unsubscribe()
        await sub.unsubscribe()  # twice is harmless
        await bus.publish(Event("a.c"))
        await bus.drain()
    assert [e.data for e in inbox.events] == [{"x": 1}]


@pytest.mark.anyio
async def test_a_handler_may_unsubscribe_itself() -> None:
    seen: list[str] = []
    async with InProcessBus() as bus:

        async def once(event: Event) -> None:
            seen.append(event.type)
            await sub.unsubscribe()

        sub = await bus.subscribe(">", once)
        for name in ("a.one", "a.two", "a.three"):
            await bus.publish(Event(name))
        await asyncio.wait_for(bus.drain(), 1)
    assert seen == ["a.one"]


@pytest.mark.anyio
async def test_in_process_durable_subscribers_share_the_work() -> None:
    async with InProcessBus() as bus:
        one, two = Inbox(), Inbox()
        await bus.subscribe("job.*", one, durable="workers")
        await bus.subscribe("job.*", two, durable="workers")
        for i in range(4):
            await bus.publish(Event("job.done", {"i": i}))
        await bus.drain()
        with pytest.raises(BusError, match="follows"):
            await bus.subscribe("other.*", Inbox(), durable="workers")
    assert len(one.events) == len(two.events) == 2


@pytest.mark.anyio
async def test_drain_waits_for_events_that_handlers_publish() -> None:
    async with InProcessBus() as bus:
        inbox = Inbox()

        async def chain(event: Event) -> None:
            await asyncio.sleep(0.01)
            await bus.publish(Event("step.two"))

        await bus.subscribe("step.one", chain)
        await bus.subscribe("step.two", inbox)
        await bus.publish(Event("step.one"))
        await bus.drain()
        assert inbox.types == ["step.two"]


@pytest.mark.anyio
async def test_publish_many_delivers_in_order_and_stops_at_a_refused_event() -> None:
    async with InProcessBus() as bus:
        every, jobs, one, two = Inbox(), Inbox(), Inbox(), Inbox()
        await bus.subscribe(">", every)
        await bus.subscribe("job.*", jobs)
        await bus.subscribe("job.*", one, durable="workers")
        await bus.subscribe("job.*", two, durable="workers")
        batch = [Event("job.done" if i % 2 else "kpi.updated", {"i": i}) for i in range(6)]
        await bus.publish_many(batch)
        await bus.drain()
        assert [e.data["i"] for e in every.events] == list(range(6))
        assert [e.data["i"] for e in jobs.events] == [1, 3, 5]
        assert sorted(e.data["i"] for e in one.events + two.events) == [1, 3, 5]
        assert {len(one.events), len(two.events)} == {1, 2}  # the group shares the work
        assert every.events[1] is not jobs.events[0]  # each subscriber has its own copy
        with pytest.raises(PartlyPublished) as refused:
            await bus.publish_many([Event("job.done", {"i": 6}), Event("bad..type")])
        await bus.drain()
    assert refused.value.accepted == 1
    assert [e.data["i"] for e in jobs.events] == [1, 3, 5, 6]


@pytest.mark.anyio
async def test_a_subscriber_test_keeps_unwanted_events_from_its_handler() -> None:
    def even(event: Event) -> bool:
        if event.data.get("i") == 3:
            raise ValueError("a test that fails lets the event through")
        return event.data.get("i", 0) % 2 == 0

    async with InProcessBus() as bus:
        some, every, one, two = Inbox(), Inbox(), Inbox(), Inbox()
        await bus.subscribe("n.*", some, accepts=even)
        await bus.subscribe("n.*", every)
        await bus.subscribe("n.*", one, durable="workers", accepts=even)
        await bus.subscribe("n.*", two, durable="workers", accepts=even)
        await bus.publish_many([Event("n.x", {"i": i}) for i in range(6)])
        await bus.publish(Event("n.x", {"i": 6}))
        await bus.drain()
    assert [e.data["i"] for e in some.events] == [0, 2, 3, 4, 6]
    assert [e.data["i"] for e in every.events] == list(range(7))
    assert sorted(e.data["i"] for e in one.events + two.events) == [0, 2, 3, 4, 6]


@pytest.mark.anyio
async def test_closed_in_process_bus_refuses_events() -> None:
    bus = InProcessBus()
    await bus.start()
    await bus.close()
    with pytest.raises(BusError):
        await bus.publish(Event("a.b"))
    with pytest.raises(PartlyPublished) as refused:
        await bus.publish_many([Event("a.b")])
    assert refused.value.accepted == 0


# --------------------------------------------------------------------------- NATS


@pytest.mark.anyio
async def test_unreachable_nats_names_the_url() -> None:
    bus = NatsBus("nats://127.0.0.1:1", "IOC_NOWHERE", timeout=1)
    started = time.monotonic()
    with pytest.raises(BusError, match=r"nats://127\.0\.0\.1:1 \(IOC_BUS_URL\)"):
        await bus.start()
    assert time.monotonic() - started < 10


@pytest.mark.nats
@pytest.mark.anyio
async def test_nats_round_trip_of_a_real_event() -> None:
    async with scratch_stream() as make, make() as bus:
        feedback = Inbox()
        await bus.subscribe("feedback.*", feedback)
        event = Event(
            "feedback.created",
            {"title": "Đèn đường hỏng", "tags": ["light"], "n": 3},
            actor="user:7",
            place_code="17",
            subject="feedback/42",
        )
        await bus.publish(Event("alert.raised"))  # not for this subscriber
        await bus.publish(event)
        await bus.publish(Event("feedback.closed"))
        await feedback.wait_for(2)
    assert feedback.events[0] == event
    assert feedback.types == ["feedback.created", "feedback.closed"]


@pytest.mark.nats
@pytest.mark.anyio
async def test_nats_subscriber_test_acknowledges_what_it_refuses() -> None:
    async with scratch_stream() as make, make() as bus:
        wanted = Inbox()
        await bus.subscribe(
            "job.*", wanted, durable="picky", accepts=lambda e: e.data.get("keep", False)
        )
        for keep in (False, True, False, True):
            await bus.publish(Event("job.done", {"keep": keep}))
        await wanted.wait_for(2)
        await asyncio.sleep(0.3)  # a refused event left unacknowledged would come back
        info = await bus._jetstream().consumer_info(bus.stream, "picky")
    assert [e.data["keep"] for e in wanted.events] == [True, True]
    assert info.num_ack_pending == 0 and info.num_pending == 0


@pytest.mark.nats
@pytest.mark.anyio
async def test_nats_drops_a_republished_event_by_its_msg_id() -> None:
    async with scratch_stream() as make, make() as bus:
        inbox = Inbox()
        await bus.subscribe(">", inbox)
        event = Event("feedback.created", {"id": 1})
        await bus.publish(event)
        await bus.publish(event)  # e.g. the relay crashed before marking the row
        marker = Event("feedback.marker")
        await bus.publish(marker)
        await inbox.wait_for(2)
        await asyncio.sleep(0.1)
    assert [e.id for e in inbox.events] == [event.id, marker.id]


@pytest.mark.nats
@pytest.mark.anyio
async def test_nats_durable_consumer_resumes_where_it_left_off() -> None:
    async with scratch_stream() as make, make() as publisher:
        first = Inbox()
        async with make() as worker:
            await worker.subscribe("feedback.>", first, durable="kpi")
            await publisher.publish(Event("feedback.created", {"n": 1}))
            await first.wait_for(1)
        # the worker is down ("restart"): these wait in the stream for it
        await publisher.publish(Event("feedback.created", {"n": 2}))
        await publisher.publish(Event("alert.raised", {"n": 0}))
        await publisher.publish(Event("feedback.status.changed", {"n": 3}))

        again, latecomer = Inbox(), Inbox()
        async with make() as worker:
            await worker.subscribe("feedback.>", again, durable="kpi")
            await worker.subscribe("feedback.>", latecomer)  # ephemeral: only new ones
            await again.wait_for(2)
            await publisher.publish(Event("feedback.created", {"n": 4}))
            await again.wait_for(3)
            await latecomer.wait_for(1)
            with pytest.raises(BusError, match="follows"):
                await worker.subscribe("alert.*", Inbox(), durable="kpi")
    assert [e.data["n"] for e in first.events] == [1]
    assert [e.data["n"] for e in again.events] == [2, 3, 4]
    assert [e.data["n"] for e in latecomer.events] == [4]


@pytest.mark.nats
@pytest.mark.anyio
async def test_nats_redelivers_after_a_handler_fails(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[Event] = []
    done = Inbox()

    async def flaky(event: Event) -> None:
        attempts.append(event)
        if len(attempts) == 1:
            raise RuntimeError("database busy")
        await done(event)

    async with scratch_stream() as make, make() as bus:
        await bus.subscribe("feedback.*", flaky, durable="flaky")
        event = Event("feedback.created")
        with caplog.at_level(logging.ERROR, logger="ioc.core.bus"):
            await bus.publish(event)
            await done.wait_for(1)
    assert [e.id for e in attempts] == [event.id, event.id]
    assert "database busy" in caplog.text


@pytest.mark.nats
@pytest.mark.anyio
async def test_nats_stream_is_created_then_updated() -> None:
    async with scratch_stream() as make:
        async with make(max_age=3600) as bus:
            stream = bus.stream
        async with make(max_age=7200):
            pass
        nc = await nats.connect(NATS_URL)
        try:
            info = await nc.jetstream().stream_info(stream)
        finally:
            await nc.close()
    assert info.config.max_age == 7200
    assert info.config.subjects == [f"{bus.prefix}.>"]
    assert info.config.storage == "file"
