"""The alert engine: follows events on the bus (durable consumers) and applies the rules.

Gauge and air-station readings arrive as ``entity.*`` events naming the attributes written;
their values are read from the NGSI-LD broker (the entity as it is now), never from another
capability's tables. Handlers only queue events; one worker takes everything queued at once,
in one transaction, so a burst of readings costs one round.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from ioc.alerts import service
from ioc.alerts.rules import PATTERNS, RULES, Decision, Thresholds, evaluate, wants_reading
from ioc.context.service import DEFAULT_TENANT, Broker
from ioc.core.bus import Bus, matches
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.events import Event
from ioc.core.follow import follow, in_thread
from ioc.core.problems import Problem
from ioc.core.scope import Scope

log = logging.getLogger(__name__)

DURABLE = "alerts"
ACTOR = "system:alerts"
GATHER_SECONDS = 0.2  # events of this long make one round
SWEEP_SECONDS = 60.0  # how often stale alerts (congestion) are resolved
EVERYWHERE = Scope.everywhere()


def enabled(settings: Settings) -> frozenset[str]:
    """The rules ``IOC_ALERTS_RULES`` names (all when empty); ValueError for an unknown one."""
    names = [n.strip() for n in settings.alerts_rules.split(",") if n.strip()]
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(
            f"IOC_ALERTS_RULES: unknown rule {unknown[0]!r}; rules: {', '.join(RULES)}"
        )
    return frozenset(names or RULES)


@functools.lru_cache(maxsize=4096)  # a few dozen event types, thousands of events a second
def _followed(type_: str, rules: frozenset[str]) -> bool:
    return any(matches(p, type_) for r in rules for p in RULES[r].follows)


def follows(event: Event, rules: frozenset[str]) -> bool:
    """Whether an enabled rule may care (cheap: runs on the event loop for every event)."""
    if not _followed(event.type, rules):
        return False
    return not event.type.startswith("entity.") or wants_reading(event)


def entity_reader(broker: Broker, session: Any) -> service.Lookup:
    """keyValues of default-tenant entities by id, read once per round."""
    from ioc.devices.entities import key_values

    cache: dict[str, dict[str, Any] | None] = {}

    def lookup(entity_id: str) -> dict[str, Any] | None:
        if entity_id not in cache:
            try:
                stored = broker.retrieve(
                    session.connection(), DEFAULT_TENANT, entity_id, EVERYWHERE
                )
                cache[entity_id] = key_values(stored)
            except Problem:
                cache[entity_id] = None
        return cache[entity_id]

    return lookup


def decide(
    events: list[Event], limits: Thresholds, rules: frozenset[str], lookup: service.Lookup
) -> list[Decision]:
    """The rules' decisions for a round; an entity written several times is judged once."""
    last: dict[str, int] = {}
    for i, event in enumerate(events):
        if wants_reading(event):
            last[str(event.data.get("id"))] = i
    out: list[Decision] = []
    for i, event in enumerate(events):
        values = None
        if wants_reading(event):
            entity_id = str(event.data.get("id"))
            if last[entity_id] != i:
                continue
            values = lookup(entity_id)
        out.extend(d for d in evaluate(event, limits, values) if d.rule in rules)
    return out


def process(
    database: Database,
    broker: Broker,
    events: list[Event],
    limits: Thresholds,
    rules: frozenset[str],
) -> int:
    """One round in one transaction; returns how many alerts changed.

    Servers sharing the consumers may raise the same (rule, source) at once: the unique index
    refuses the second, whose round runs again and then finds the alert to bump.
    """
    for attempt in range(2):
        try:
            with database.session(ACTOR) as session:
                lookup = entity_reader(broker, session)
                return service.apply(session, decide(events, limits, rules, lookup), lookup)
        except IntegrityError:
            if attempt:
                raise
            log.info("an alert of this round was raised elsewhere meanwhile; running it again")
    return 0


def sweep(database: Database) -> int:
    with database.session(ACTOR) as session:
        return service.expire_stale(session)


async def alerts_task(app: FastAPI) -> None:
    """Background task: raise, bump and resolve alerts from events until the server stops."""
    from ioc.context.api import runtime

    settings: Settings = app.state.settings
    bus: Bus = app.state.bus
    database: Database = app.state.database
    try:
        rules = enabled(settings)
    except ValueError as exc:
        log.error("no alerts: %s", exc)
        return
    limits = Thresholds.of(settings)
    broker = runtime(app).broker
    queue: asyncio.Queue[Event] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def handle(event: Event) -> None:  # what ``follows`` let through
        queue.put_nowait(event)

    async def work() -> None:
        swept = loop.time()
        while True:
            try:
                first = await asyncio.wait_for(queue.get(), SWEEP_SECONDS)
            except TimeoutError:
                first = None
            if first is not None:
                await asyncio.sleep(GATHER_SECONDS)
                batch = [first]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                try:
                    await in_thread(process, database, broker, batch, limits, rules)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("alert rules failed on %d event(s)", len(batch))
            if loop.time() - swept >= SWEEP_SECONDS:
                swept = loop.time()
                try:
                    await in_thread(sweep, database)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("resolving stale alerts failed")

    await follow(
        bus,
        PATTERNS,
        handle,
        durable=DURABLE,
        worker=work,
        what="alerts",
        accepts=lambda event: follows(event, rules),
    )
