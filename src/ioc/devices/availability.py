"""Streetlight availability over a span: light-hours, and the hours lights were out of service.

A light counts from the moment it entered the inventory (its entity's ``createdAt``); it is
*out of service* while a ``no_power`` or ``no_heartbeat`` fault of the scan is open, from the
scan that found it to the scan that cleared it (overlapping faults of one light count once).
``on_in_daylight`` wastes energy but the lamp still lights the street: it is not an outage.
Lights are placed by their location's commune, as operations and fault scans place them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from ioc.context.query import MAX_LIMIT, EntityQuery, QueryRunner
from ioc.context.service import DEFAULT_TENANT
from ioc.context.store import Store
from ioc.devices import entities
from ioc.devices.models import StreetlightFault

OUTAGE_KINDS = ("no_power", "no_heartbeat")
_CACHE = "ioc.devices.availability.lights"  # session.info: the lights read in this transaction


@dataclass(frozen=True, slots=True)
class Placed:
    """A light as availability needs it: since when it is counted, and its commune."""

    id: str
    since: dt.datetime
    place_code: str | None


@dataclass(frozen=True, slots=True)
class Availability:
    lights: int
    light_hours: float
    outage_hours: float

    @property
    def available_hours(self) -> float:
        return self.light_hours - self.outage_hours


@lru_cache(maxsize=4)
def _runner(dialect: str) -> QueryRunner:
    return QueryRunner(Store(dialect))


def lights(session: Session, tenant: str = DEFAULT_TENANT) -> dict[str, Placed]:
    """Every streetlight of the tenant with its commune, read once per transaction."""
    cache: dict[str, dict[str, Placed]] = session.info.setdefault(_CACHE, {})
    if tenant in cache:
        return cache[tenant]
    conn = session.connection()
    runner = _runner(conn.dialect.name)
    where = entities.Places(session)
    found: dict[str, Placed] = {}
    offset = 0
    while True:
        query = EntityQuery(types=entities.type_iris("Streetlight"), limit=MAX_LIMIT, offset=offset)
        page, _ = runner.run(conn, tenant, query, entities.EVERYWHERE)
        for stored in page:
            at = entities.point(entities.key_values(stored))
            found[stored.id] = Placed(stored.id, stored.created_at, where.commune(at))
        if len(page) < MAX_LIMIT:
            break
        offset += MAX_LIMIT
    cache[tenant] = found
    return found


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CACHE, None)


def _merged(spans: list[tuple[dt.datetime, dt.datetime]]) -> float:
    """Hours covered by the union of the spans."""
    hours = 0.0
    end: dt.datetime | None = None
    for first, last in sorted(spans):
        if end is not None and first < end:
            if last > end:
                hours += (last - end).total_seconds() / 3600
                end = last
            continue
        hours += (last - first).total_seconds() / 3600
        end = last
    return hours


def availability(
    session: Session,
    place_path: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    tenant: str = DEFAULT_TENANT,
) -> Availability:
    """Light-hours and outage hours of the lights inside the place (by path) from start to end."""
    where = entities.Places(session)
    every = lights(session, tenant).values()
    communes = {li.place_code for li in every}  # a few dozen: test each once, not each light
    held = {code for code in communes if where.within(code, place_path)}
    inside = {li.id: li for li in every if li.since < end and li.place_code in held}
    light_hours = sum((end - max(start, li.since)).total_seconds() / 3600 for li in inside.values())
    if not inside:
        return Availability(0, 0.0, 0.0)
    f = StreetlightFault
    rows = session.execute(
        select(f.light_id, f.detected_at, f.cleared_at).where(
            f.tenant == tenant,
            f.kind.in_(OUTAGE_KINDS),
            f.detected_at < end,
            or_(f.cleared_at.is_(None), f.cleared_at > start),
            f.place_code.in_(sorted(c for c in held if c is not None)),
        )
    )
    spans: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for light_id, detected, cleared in rows:
        light = inside.get(light_id)
        if light is None:
            continue
        first, last = max(detected, start, light.since), min(cleared or end, end)
        if first < last:
            spans.setdefault(light_id, []).append((first, last))
    outage = sum(_merged(s) for s in spans.values())
    return Availability(len(inside), light_hours, outage)


def fault_span(session: Session, fault_id: int) -> tuple[dt.datetime, dt.datetime | None] | None:
    """When a fault was found and cleared (None: no such fault)."""
    row = session.execute(
        select(StreetlightFault.detected_at, StreetlightFault.cleared_at).where(
            StreetlightFault.id == fault_id
        )
    ).first()
    return (row[0], row[1]) if row is not None else None
