"""Streetlight faults: a scan of every light's state, each new fault a ``streetlight.fault`` event.

Three faults are looked for: ``no_power`` (the lamp is on but draws less than
``IOC_STREETLIGHT_MIN_POWER_W``), ``no_heartbeat`` (nothing written to the light for
``IOC_STREETLIGHT_HEARTBEAT_MINUTES``) and ``on_in_daylight`` (on while the sun is up at the
light, from astral's sunrise and sunset with half an hour's margin each side). A fault stays
open while scans keep finding it; the first scan that does not clears it
(``streetlight.fault_cleared``), so an event is published once per fault, not once per scan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from astral import Observer
from astral.sun import sun
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context.service import DEFAULT_TENANT, Broker
from ioc.core.config import Settings
from ioc.core.db import utcnow
from ioc.core.events import emit
from ioc.core.scope import Scope
from ioc.devices import entities
from ioc.devices.models import StreetlightFault
from ioc.devices.periods import VIETNAM
from ioc.devices.streetlights import Light, inventory

DAYLIGHT_MARGIN = dt.timedelta(minutes=30)  # dusk and dawn are not daylight faults


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds a scan applies (from Settings)."""

    heartbeat: dt.timedelta
    min_power_w: float

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(
            dt.timedelta(minutes=settings.streetlight_heartbeat_minutes),
            settings.streetlight_min_power_w,
        )


@dataclass(slots=True)
class ScanResult:
    lights: int = 0
    found: list[StreetlightFault] = field(default_factory=list)
    cleared: list[StreetlightFault] = field(default_factory=list)
    still_open: int = 0


@lru_cache(maxsize=4096)
def _sun(lat: float, lon: float, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    times = sun(Observer(latitude=lat, longitude=lon), date=day, tzinfo=VIETNAM)
    return times["sunrise"], times["sunset"]


def daylight(lat: float, lon: float, moment: dt.datetime) -> bool:
    """Is the sun up at the point (more than the margin after sunrise and before sunset)?

    Points are rounded to 0.05° (about 5 km, some 10 s of sunrise): a scan of a province's
    lights computes the sun a few dozen times, not once per light.
    """
    day = moment.astimezone(VIETNAM).date()
    sunrise, sunset = _sun(round(lat * 20) / 20, round(lon * 20) / 20, day)
    return sunrise + DAYLIGHT_MARGIN <= moment <= sunset - DAYLIGHT_MARGIN


def faults_of(light: Light, now: dt.datetime, rules: Rules) -> dict[str, str]:
    """kind → what was seen, for every fault the light shows now."""
    found: dict[str, str] = {}
    state = light.values.get("powerState")
    power = entities.number(light.values.get("powerConsumption"))
    if state == "on" and power is not None and power < rules.min_power_w:
        found["no_power"] = f"powerState on but powerConsumption {power:g} W"
    silent = now - light.stored.modified_at
    if silent > rules.heartbeat:
        minutes = int(silent.total_seconds() // 60)
        found["no_heartbeat"] = f"nothing received for {minutes} minutes"
    at = entities.point(light.values)
    if state == "on" and at is not None and daylight(at[0], at[1], now):
        found["on_in_daylight"] = f"on at {now.astimezone(VIETNAM):%H:%M} Vietnam time, sun up"
    return found


def _publish(session: Session, fault: StreetlightFault, kind: str) -> None:
    emit(
        session,
        kind,
        {
            "fault_id": fault.id,
            "light_id": fault.light_id,
            "kind": fault.kind,
            "detail": fault.detail,
            "severity": "medium",
            "place_code": fault.place_code,
        },
        subject=fault.light_id[:200],
        place_code=fault.place_code,
    )


def scan(
    session: Session,
    broker: Broker,
    rules: Rules,
    now: dt.datetime | None = None,
    tenant: str = DEFAULT_TENANT,
) -> ScanResult:
    """Compare every light's faults now with the open ones; the caller commits."""
    now = now or utcnow()
    lights = inventory(session, broker, tenant).lights
    current = {(light.id, kind): (light, detail) for light in lights.values()
               for kind, detail in faults_of(light, now, rules).items()}  # fmt: skip
    open_faults = session.scalars(
        select(StreetlightFault).where(
            StreetlightFault.tenant == tenant, StreetlightFault.cleared_at.is_(None)
        )
    ).all()
    result = ScanResult(lights=len(lights))
    known = set()
    for fault in open_faults:
        key = (fault.light_id, fault.kind)
        if key in current:
            known.add(key)
            result.still_open += 1
            continue
        fault.cleared_at = now
        result.cleared.append(fault)
    for (light_id, kind), (light, detail) in sorted(current.items(), key=lambda i: i[0]):
        if (light_id, kind) in known:
            continue
        fault = StreetlightFault(
            tenant=tenant,
            light_id=light_id,
            kind=kind,
            detail=detail,
            place_code=light.place_code,
            detected_at=now,
        )
        session.add(fault)
        result.found.append(fault)
    session.flush()
    for fault in result.found:
        _publish(session, fault, "streetlight.fault")
    for fault in result.cleared:
        _publish(session, fault, "streetlight.fault_cleared")
    return result


def list_faults(
    session: Session, scope: Scope, *, open_only: bool, limit: int, offset: int
) -> list[StreetlightFault]:
    f = StreetlightFault
    stmt = select(f).where(scope.where(place=f.place_code))
    if open_only:
        stmt = stmt.where(f.cleared_at.is_(None))
    stmt = stmt.order_by(f.detected_at.desc(), f.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))
