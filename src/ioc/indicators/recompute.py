"""Computed indicators kept current from events: each event recomputes only the cells it touches.

A cell is (indicator, place, period). An event at a commune touches that commune (if the
indicator goes that deep), its district and the province, for the periods holding the days
the computation says the event concerns. ``rebuild`` recomputes every cell of chosen periods.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.bus import Bus
from ioc.core.db import Database
from ioc.core.events import Event
from ioc.core.follow import follow, in_thread
from ioc.core.models import Place
from ioc.indicators import periods
from ioc.indicators.computations import COMPUTATIONS, wanted_by
from ioc.indicators.models import Indicator
from ioc.indicators.values import Cell, store_computed

log = logging.getLogger(__name__)

LEVELS = ("province", "district", "commune")
DURABLE = "indicators"
ACTOR = "system:indicators"


def _computed(session: Session, names: list[str] | None = None) -> list[Indicator]:
    query = select(Indicator).where(Indicator.kind == "computed")
    if names is not None:
        query = query.where(Indicator.computation.in_(names))
    return list(session.scalars(query.order_by(Indicator.code)))


def _deep_enough(place: Place, indicator: Indicator) -> bool:
    return LEVELS.index(place.level) <= LEVELS.index(indicator.level)


def recompute(session: Session, cells: set[Cell]) -> int:
    """Recompute and store each cell; returns how many.

    Cells of one computation and period are computed together where the computation can
    (``compute_many``: one grouped query for every place), otherwise one by one.
    """
    indicators = {i.code: i for i in _computed(session)}
    together: dict[tuple[str, str], list[tuple[Cell, Place]]] = {}
    for cell in sorted(cells, key=lambda c: (c.code, c.place_code, c.period)):
        place = session.get(Place, cell.place_code)
        if place is not None:
            name = indicators[cell.code].computation or ""
            together.setdefault((name, cell.period), []).append((cell, place))
    results: list[tuple[Cell, float, float]] = []
    memo: dict[object, object] = {}
    for (name, period), members in together.items():
        computation = COMPUTATIONS[name]
        first, last = periods.bounds(period)
        if computation.compute_many is not None:
            places = list({place.code: place for _, place in members}.values())
            ratios = computation.compute_many(session, places, first, last, memo)
            results.extend((cell, *ratios[place.code]) for cell, place in members)
        else:
            results.extend(
                (cell, *computation.compute(session, place, first, last)) for cell, place in members
            )
    # Every read first, then the writes: on SQLite the write lock is taken at the first
    # write and held to the commit, so the reports and devices writing meanwhile wait only
    # for these few rows, not for the whole computation.
    for cell, numerator, denominator in results:
        store_computed(session, cell, numerator, denominator)
    return len(cells)


@dataclass
class _Batch:
    """What the events of one batch share: the indicators of each event type, place chains."""

    indicators: dict[tuple[str, ...], list[Indicator]] = field(default_factory=dict)
    chains: dict[str, list[Place]] = field(default_factory=dict)


def cells_of(session: Session, event: Event, batch: _Batch | None = None) -> set[Cell]:
    """The cells an event may have changed: its places and their ancestors, its periods."""
    names = wanted_by(event.type)
    if not names:
        return set()
    batch = batch or _Batch()
    key = tuple(names)
    if key not in batch.indicators:
        batch.indicators[key] = _computed(session, names)
    chains = batch.chains
    cells: set[Cell] = set()
    touched: dict[object, list[tuple[str, dt.date]]] = {}
    for indicator in batch.indicators[key]:
        computation = COMPUTATIONS[indicator.computation or ""]
        if computation.touches not in touched:  # indicators sharing a source ask once
            touched[computation.touches] = computation.touches(session, event)
        for place_code, day in touched[computation.touches]:
            if place_code not in chains:
                place = session.get(Place, place_code)
                codes = place.path.split("/") if place is not None else []
                chains[place_code] = list(
                    session.scalars(select(Place).where(Place.code.in_(codes)))
                )
            period = periods.key_of(day, indicator.period)
            cells.update(
                Cell(indicator.code, at.code, period)
                for at in chains[place_code]
                if _deep_enough(at, indicator)
            )
    return cells


def on_events(database: Database, events: list[Event]) -> int:
    """Recompute, once each, the cells a batch of events touched, in one transaction."""
    with database.session(ACTOR) as session:
        cells: set[Cell] = set()
        batch = _Batch()
        for event in events:
            cells |= cells_of(session, event, batch)
        return recompute(session, cells)


def rebuild(session: Session, keys: list[str], province_code: str | None = None) -> int:
    """Recompute every computed indicator for every place it is kept at, for ``keys``."""
    query = select(Place)
    if province_code is not None:
        root = session.get(Place, province_code)
        if root is not None:
            query = query.where(Place.path.like(root.path + "%"))
    places = list(session.scalars(query))
    cells: set[Cell] = set()
    for indicator in _computed(session):
        for place in places:
            if _deep_enough(place, indicator):
                cells.update(Cell(indicator.code, place.code, key) for key in keys)
    return recompute(session, cells)


async def recompute_task(app: FastAPI) -> None:
    """Background task: follow the events computed indicators depend on until the server stops.

    Handlers only queue events; one worker takes everything queued at once and recomputes
    each touched cell once, at most every ``IOC_INDICATORS_RECOMPUTE_SECONDS``, so a burst (a
    relay catching up, an import, a stream of reports) costs a few cells, not a
    recomputation per event. A crash loses at most the queued batch's recomputation;
    ``ioc indicators recompute`` restores it.
    """
    bus: Bus = app.state.bus
    database: Database = app.state.database
    patterns = sorted({p for c in COMPUTATIONS.values() for p in c.events})
    queue: asyncio.Queue[Event] = asyncio.Queue()

    async def handle(event: Event) -> None:
        queue.put_nowait(event)

    interval: float = app.state.settings.indicators_recompute_seconds
    loop = asyncio.get_running_loop()

    async def work() -> None:
        while True:
            batch = [await queue.get()]
            started = loop.time()
            while not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await in_thread(on_events, database, batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recomputing indicators after %d event(s) failed", len(batch))
            # Rounds are spaced: under a stream of reports the events of the wait make one
            # batch, rather than a recomputation competing with every write for the database.
            await asyncio.sleep(max(0.0, interval - (loop.time() - started)))

    await follow(bus, patterns, handle, durable=DURABLE, worker=work, what="indicators")
