"""Computations of streetlight availability, the full-online (level 4) share and online filing.

As in :mod:`ioc.indicators.computations`: each reads other capabilities only through their
public functions (``ioc.devices.availability``, ``ioc.services.online``) and returns a
numerator and a denominator, and each ``…_touches`` names the (place, local day)s an event
changed. ``computations.COMPUTATIONS`` registers them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.db import utcnow
from ioc.core.events import Event
from ioc.core.models import Place
from ioc.core.workdays import VIETNAM_TZ
from ioc.indicators import periods
from ioc.indicators.models import Indicator, IndicatorValue
from ioc.indicators.periods import local_day
from ioc.indicators.sources import Ratio, Touch, dossier_touches, system_principal

MAX_SPAN_DAYS = 400  # a fault open longer touches its last 400 days; a rebuild covers the rest


def _midnight(day: dt.date) -> dt.datetime:
    """The UTC instant of local midnight starting ``day``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=VIETNAM_TZ).astimezone(dt.UTC)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    first, last = min(first, last), max(first, last)
    first = max(first, last - dt.timedelta(days=MAX_SPAN_DAYS - 1))
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


# --------------------------------------------------------------------------- streetlights

STREETLIGHT_EVENTS = ("streetlight.fault", "streetlight.fault_cleared", "entity.created")
_NOW = "ioc.indicators.now"  # session.info: one "now" per transaction, so places add up


def _now(session: Session) -> dt.datetime:
    found = session.info.get(_NOW)
    if found is None:
        found = session.info[_NOW] = utcnow()
    return found


@orm_event.listens_for(Session, "after_commit")
@orm_event.listens_for(Session, "after_rollback")
def _forget_now(session: Session) -> None:
    session.info.pop(_NOW, None)


def streetlight_availability(
    session: Session, place: Place, first: dt.date, last: dt.date
) -> Ratio:
    """Light-hours available over light-hours, from the period's start (or a light's install)
    to its end or now: the lamp-hour availability lighting contracts are measured by."""
    from ioc.devices.availability import availability

    start, end = _midnight(first), min(_midnight(last + dt.timedelta(days=1)), _now(session))
    if end <= start:
        return 0.0, 0.0
    found = availability(session, place.path, start, end)
    return found.available_hours, found.light_hours


def streetlight_touches(session: Session, event: Event) -> list[Touch]:
    """A fault changes its commune's days from detection to clearing; a new light its day."""
    from ioc.devices import availability, entities

    if event.type == "entity.created":
        if entities.local_type(str(event.data.get("type", ""))) != "Streetlight":
            return []
        light = availability.lights(session, str(event.data.get("tenant", "default"))).get(
            str(event.data.get("id"))
        )
        if light is None or light.place_code is None:
            return []
        return [(light.place_code, local_day(light.since))]
    if not event.place_code or event.data.get("kind") not in availability.OUTAGE_KINDS:
        return []
    detected = event.time
    fault_id = event.data.get("fault_id")
    if event.type == "streetlight.fault_cleared" and isinstance(fault_id, int):
        span = availability.fault_span(session, fault_id)
        if span is not None:
            detected = span[0]
    return [(event.place_code, day) for day in _days(local_day(detected), local_day(event.time))]


# --------------------------------------------------------------------------- public services

CATALOGUE_EVENTS = ("procedure.catalogue.changed",)  # ioc.services.online.CATALOGUE_CHANGED


def services_level4(session: Session, place: Place, first: dt.date, last: dt.date) -> Ratio:
    """Of the province's procedures, those offered fully online (level 4).

    The catalogue keeps no history, so a period is measured while it is current; once it has
    ended, its value is the one measured last while it was (read back, not remeasured), and a
    period not yet begun has none.
    """
    from ioc.services.online import full_online_share

    today = local_day(utcnow())
    if first > today:
        return 0.0, 0.0
    if last >= today:
        full, total = full_online_share(session)
        return float(full), float(total)
    for indicator in session.scalars(
        select(Indicator).where(Indicator.computation == "services_level4")
    ):
        key = periods.key_of(first, indicator.period)
        if periods.bounds(key) != (first, last):
            continue
        row = session.execute(
            select(IndicatorValue.numerator, IndicatorValue.denominator).where(
                IndicatorValue.indicator_code == indicator.code,
                IndicatorValue.place_code == place.code,
                IndicatorValue.period == key,
            )
        ).first()
        if row is not None and row[1]:
            return float(row[0] or 0.0), float(row[1])
    return 0.0, 0.0


def catalogue_touches(session: Session, event: Event) -> list[Touch]:
    """A catalogue change touches the province, today (the only period measured live)."""
    code = event.place_code or session.scalar(
        select(Place.code).where(Place.level == "province").order_by(Place.code)
    )
    return [(code, local_day(event.time))] if code else []


def dossier_online(session: Session, place: Place, first: dt.date, last: dt.date) -> Ratio:
    """Of the dossiers received in the period inside ``place``, those filed online."""
    from ioc.services import online, service

    where = service.visible(system_principal(session, place))
    filed_online, filed = online.received_online(session, first, last, where)
    return float(filed_online), float(filed)


dossier_received_touches = dossier_touches("received", "received_at")
