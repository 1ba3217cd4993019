"""The feedback background tasks: escalation and the demo simulator run, publish, and stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from ioc.app import BACKGROUND_TASKS, create_app
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.events import Event
from ioc.core.models import OutboxEvent
from ioc.feedback import service, tasks
from ioc.feedback.models import FeedbackNote, FeedbackRequest
from ioc.feedback.simulator import ACTOR, Simulator

TU_LY = "xóm Mớ, xã Tú Lý, huyện Đà Bắc"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _app(database: Database, **settings: Any) -> FastAPI:
    return create_app(Settings(database_url=database.url, **settings), database=database)


def _overdue_request(database: Database) -> int:
    """A flood report (2 working days) received a month ago and never touched."""
    with database.session("test") as session:
        sub = service.Submission(
            "flood",
            "Sạt lở taluy",
            "hotline",
            address=TU_LY,
            attributes={"severity": "blocked"},
            requested_at=utcnow() - dt.timedelta(days=30),
        )
        return service.submit(session, sub).request.id


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await asyncio.to_thread(check):
            await asyncio.sleep(0.02)


async def _stop(task: asyncio.Task[None]) -> float:
    """Cancel a loop; returns how long it took to end."""
    start = time.perf_counter()
    task.cancel()
    await asyncio.wait([task], timeout=5)
    assert task.done()
    return time.perf_counter() - start


def test_both_loops_are_registered() -> None:
    assert "ioc.feedback.tasks:escalation_loop" in BACKGROUND_TASKS
    assert "ioc.feedback.tasks:simulator_loop" in BACKGROUND_TASKS


@pytest.mark.anyio
async def test_the_escalation_loop_raises_an_overdue_request(demo_db: Database) -> None:
    rid = _overdue_request(demo_db)
    app = _app(demo_db, feedback_escalation_minutes=0.001)  # every 60 ms

    def escalated() -> bool:
        with demo_db.session() as session:
            return bool(session.scalar(select(FeedbackRequest.escalation_level).filter_by(id=rid)))

    loop = asyncio.create_task(tasks.escalation_loop(app))
    await _until(escalated)
    assert await _stop(loop) < 1
    with demo_db.session() as session:
        req = session.get(FeedbackRequest, rid)
        assert req is not None and req.escalation_level == 1
        assert req.escalated_to == "UBND-TINH"  # from the Đà Bắc district committee
        note = session.scalar(select(FeedbackNote).filter_by(request_id=rid, kind="escalate"))
        assert note is not None and note.actor == "system:escalation"
        event = session.scalar(
            select(OutboxEvent).filter_by(type="feedback.escalated", subject=str(rid))
        )
        assert event is not None and event.actor == "system:escalation"


@pytest.mark.anyio
async def test_a_failed_escalation_round_is_logged_and_the_loop_goes_on(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky(database: Database, now: dt.datetime | None = None) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return 0

    monkeypatch.setattr(tasks, "escalate_once", flaky)
    loop = asyncio.create_task(
        tasks.escalation_loop(_app(demo_db, feedback_escalation_minutes=0.001))
    )
    with caplog.at_level(logging.ERROR, logger="ioc.feedback.tasks"):
        await _until(lambda: len(calls) >= 3)
    await _stop(loop)
    assert "escalating overdue feedback failed" in caplog.text
    assert "database went away" in caplog.text


@pytest.mark.anyio
async def test_the_simulator_submits_and_publishes_while_the_server_runs(demo_db: Database) -> None:
    app = _app(demo_db, demo_simulate=True, demo_simulate_seconds=0.05)
    seen: list[Event] = []

    async def inbox(event: Event) -> None:
        seen.append(event)

    async with app.router.lifespan_context(app):
        await app.state.bus.subscribe("feedback.>", inbox)
        async with asyncio.timeout(10):
            while not (
                {"feedback.created"} <= {e.type for e in seen}
                and {"feedback.assigned", "feedback.in_progress", "feedback.resolved"}
                & {e.type for e in seen}
            ):
                await asyncio.sleep(0.02)
        start = time.perf_counter()
    assert time.perf_counter() - start < 3  # the loops stopped with the server
    created = next(e for e in seen if e.type == "feedback.created")
    assert created.actor == ACTOR
    with demo_db.session() as session:
        req = session.get(FeedbackRequest, int(created.data["id"]))
        assert req is not None and req.created_by == ACTOR and req.place_code is not None


@pytest.mark.anyio
async def test_the_simulator_is_off_unless_asked(demo_db: Database) -> None:
    app = _app(demo_db)
    async with asyncio.timeout(1):
        await tasks.simulator_loop(app)  # returns at once


def test_the_simulator_follows_its_reports_to_a_rating(demo_db: Database) -> None:
    simulator = Simulator(random.Random(5), moves=100)
    first = simulator.tick(demo_db).submitted
    assert first is not None
    for _ in range(5):
        simulator.tick(demo_db)
    with demo_db.session() as session:
        req = session.get(FeedbackRequest, first.request.id)
        assert req is not None and req.status == "closed" and req.rating is not None
        steps = session.scalars(
            select(FeedbackNote.status_to).filter_by(request_id=req.id).order_by(FeedbackNote.id)
        ).all()
    assert list(steps) == ["received", "assigned", "in_progress", "resolved", "closed"]


def test_the_simulator_waits_for_a_province(database: Database) -> None:
    tick = Simulator(random.Random(1)).tick(database)
    assert tick.submitted is None and tick.moved == 0
