"""The feedback capability's background tasks: escalating overdue requests, the demo simulator.

Each is ``async def f(app) -> None`` looping until cancelled (``ioc.app.BACKGROUND_TASKS``).
Database work runs in a worker thread; a failed round is logged and the loop goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

from fastapi import FastAPI
from sqlalchemy import text

from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.feedback.service import DuplicateRule, escalate_overdue
from ioc.feedback.simulator import Simulator

log = logging.getLogger(__name__)

ESCALATION_ACTOR = "system:escalation"
# PostgreSQL advisory lock: when several servers share the database, one escalates per round.
ESCALATION_LOCK = 0x10C_FEED

T = TypeVar("T")


async def finish_in_thread(fn: Callable[..., T], *args: object) -> T:
    """Run ``fn`` in a worker thread; if cancelled meanwhile, let it end its transaction first."""
    work = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])  # a round takes milliseconds; a half-done one helps nobody
        raise


def escalate_once(database: Database, now: dt.datetime | None = None) -> int:
    """One round of escalation in its own transaction; returns how many requests were raised."""
    with database.session(ESCALATION_ACTOR) as session:
        if database.dialect == "postgresql":
            locked = session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ESCALATION_LOCK}
            )
            if not locked:
                return 0  # another server is escalating right now
        return escalate_overdue(session, now)


async def escalation_loop(app: FastAPI) -> None:
    """Every ``IOC_FEEDBACK_ESCALATION_MINUTES``, raise overdue open requests to the level above."""
    settings: Settings = app.state.settings
    database: Database = app.state.database
    interval = settings.feedback_escalation_minutes * 60
    while True:
        await asyncio.sleep(interval)
        try:
            raised = await finish_in_thread(escalate_once, database)
        except Exception:
            log.exception("escalating overdue feedback failed; next try in %.0f s", interval)
            continue
        if raised:
            log.info("escalated %d overdue feedback request(s)", raised)


async def simulator_loop(app: FastAPI) -> None:
    """With ``IOC_DEMO_SIMULATE``, a new simulated report and some progress every few seconds."""
    settings: Settings = app.state.settings
    if not settings.demo_simulate:
        return
    database: Database = app.state.database
    rule = DuplicateRule(settings.feedback_duplicate_radius_m, settings.feedback_duplicate_days)
    simulator = Simulator(rule=rule)
    interval = settings.demo_simulate_seconds
    log.info("feedback simulator on: a report every %.0f s", interval)
    while True:
        await asyncio.sleep(interval)
        try:
            await finish_in_thread(simulator.tick, database)
        except Exception:
            log.exception("the feedback simulator failed a round; going on")
