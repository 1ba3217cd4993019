"""Energy used by streetlights per period, from the NGSI-LD temporal store.

A light that reports a cumulative meter (``energyConsumed``, kWh) is measured by the
meter's rises, each spread evenly over the time between the two readings (a fall is a meter
reset and counts nothing). Otherwise its ``powerConsumption`` readings (W) are integrated:
each reading holds until the next one, the last until the end of the window (or now).
Amounts are split across periods (Vietnam time) by overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context.jsonld import DEFAULT_VOCAB
from ioc.context.service import DEFAULT_TENANT
from ioc.context.temporal_models import AttributeHistory
from ioc.core.db import utcnow
from ioc.devices.entities import SDM, SUBJECTS
from ioc.devices.periods import following, label, start_of

LOOKBACK = dt.timedelta(days=1)  # the reading before the window tells the state at its start
CHUNK = 500

Series = list[tuple[dt.datetime, float]]


def _names(term: str) -> tuple[str, ...]:
    return (DEFAULT_VOCAB + term, f"{SDM}{SUBJECTS['Streetlight']}/{term}")


POWER = _names("powerConsumption")
METER = _names("energyConsumed")


@dataclass(slots=True)
class EnergyReport:
    period: str
    start: dt.datetime
    end: dt.datetime
    by_period: dict[str, float] = field(default_factory=dict)
    by_light: dict[str, float] = field(default_factory=dict)
    metered: int = 0  # lights measured by their meter rather than by their power readings

    @property
    def total_kwh(self) -> float:
        return sum(self.by_light.values())


def _spread(
    out: dict[str, float], amount: float, a: dt.datetime, b: dt.datetime, report: EnergyReport
) -> float:
    """Add ``amount`` (spent evenly over [a, b]) to the periods, inside the window only."""
    if b <= a or amount == 0:
        return 0.0
    added = 0.0
    lo, hi = max(a, report.start), min(b, report.end)
    cursor = start_of(lo, report.period) if lo < hi else hi
    while cursor < hi:
        nxt = following(cursor, report.period)
        overlap = (min(nxt, hi) - max(cursor, lo)).total_seconds()
        if overlap > 0:
            share = amount * overlap / (b - a).total_seconds()
            key = label(cursor, report.period)
            out[key] = out.get(key, 0.0) + share
            added += share
        cursor = nxt
    return added


def _from_meter(series: Series, report: EnergyReport) -> float:
    total = 0.0
    for (t0, e0), (t1, e1) in zip(series, series[1:], strict=False):
        if e1 > e0:
            total += _spread(report.by_period, e1 - e0, t0, t1, report)
    return total


def _from_power(series: Series, report: EnergyReport, until: dt.datetime) -> float:
    total = 0.0
    for i, (t0, watts) in enumerate(series):
        t1 = series[i + 1][0] if i + 1 < len(series) else until
        hours = (t1 - t0).total_seconds() / 3600
        total += _spread(report.by_period, max(watts, 0.0) * hours / 1000, t0, t1, report)
    return total


def _history(
    session: Session, tenant: str, ids: Sequence[str], start: dt.datetime, end: dt.datetime
) -> Iterable[tuple[str, str, dt.datetime, float]]:
    h = AttributeHistory
    for i in range(0, len(ids), CHUNK):
        stmt = (
            select(h.entity_id, h.attr, h.observed_at, h.number)
            .where(
                h.tenant == tenant,
                h.entity_id.in_(ids[i : i + CHUNK]),
                h.attr.in_(POWER + METER),
                h.dataset_id.is_(None),
                h.number.is_not(None),
                h.observed_at >= start - LOOKBACK,
                h.observed_at < end,
            )
            .order_by(h.entity_id, h.observed_at, h.id)
        )
        for row in session.execute(stmt):
            yield row.entity_id, row.attr, row.observed_at, float(row.number)


def energy(
    session: Session,
    light_ids: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
    period: str,
    tenant: str = DEFAULT_TENANT,
    now: dt.datetime | None = None,
) -> EnergyReport:
    """kWh the lights used in [start, end), per period and per light."""
    report = EnergyReport(period, start, end)
    power: dict[str, Series] = {}
    meter: dict[str, Series] = {}
    for entity_id, attr, at, value in _history(session, tenant, list(light_ids), start, end):
        (meter if attr in METER else power).setdefault(entity_id, []).append((at, value))
    until = min(end, now or utcnow())
    for light in light_ids:
        if len(meter.get(light, [])) >= 2:
            report.by_light[light] = _from_meter(meter[light], report)
            report.metered += 1
        elif light in power:
            report.by_light[light] = _from_power(power[light], report, until)
    report.by_period = dict(sorted(report.by_period.items()))
    return report
