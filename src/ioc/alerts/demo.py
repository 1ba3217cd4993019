"""The demo's alert history: a fortnight of past alerts over the simulated city fleet.

Past readings and device events are run through the same rules and service the engine uses
(river rises after rain, dirty rush hours, lamp faults, smoke and congestion on cameras), then
resolved by their rule or by the IOC operator with a note; a few stay open for the screen, with
the overdue requests the feedback history escalated (found through the feedback queue).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy.orm import Session

from ioc.alerts import service
from ioc.alerts.models import Alert
from ioc.alerts.rules import Thresholds, evaluate
from ioc.context.service import DEFAULT_TENANT, Broker
from ioc.core.auth import Principal
from ioc.core.config import Settings
from ioc.core.db import utcnow
from ioc.core.events import Event
from ioc.demo.builder import DemoContext

ACTOR = "system:alerts"
OPERATOR = Principal("user", None, "vanhanh", frozenset({"operator"}))
SDM = "https://smartdatamodels.org/dataModel.Environment/"


def _entities(session: Session, broker: Broker, name: str) -> list[dict[str, Any]]:
    from ioc.devices.entities import key_values, of_type

    found = of_type(broker, session.connection(), DEFAULT_TENANT, name)
    return sorted((key_values(s) for s in found), key=lambda v: str(v["id"]))


class _History:
    """Feeds past events through the rules, as the engine would have when they happened."""

    def __init__(self, session: Session, limits: Thresholds) -> None:
        self.session = session
        self.limits = limits
        self.lookup: dict[str, dict[str, Any]] = {}

    def feed(self, event: Event, values: dict[str, Any] | None = None) -> list[Alert]:
        self.session.info["actor"] = ACTOR
        decisions = evaluate(event, self.limits, values)
        service.apply(self.session, decisions, self.lookup.get)
        return [a for d in decisions if (a := self._latest(d.rule, d.source)) is not None]

    def _latest(self, rule: str, source: str) -> Alert | None:
        from sqlalchemy import select

        return self.session.scalar(
            select(Alert)
            .where(Alert.rule == rule, Alert.source == source)
            .order_by(Alert.id.desc())
            .limit(1)
        )

    def reading(self, entity: dict[str, Any], type_: str, at: dt.datetime, **values: Any) -> None:
        attrs = [SDM + f"{type_}/{k}" for k in values]
        event = Event(
            "entity.updated",
            {"tenant": DEFAULT_TENANT, "id": entity["id"], "type": type_, "attributes": attrs},
            time=at,
            subject=entity["id"],
        )
        self.feed(event, {**entity, **values})

    def by_operator(self, alert: Alert, at: dt.datetime, note: str, *, resolve: bool) -> None:
        self.session.info["actor"] = OPERATOR.actor
        if alert.status == "open":
            service.acknowledge(self.session, alert, OPERATOR, None, at)
        if resolve:
            service.resolve(self.session, alert, OPERATOR, note, at + dt.timedelta(minutes=40))
        else:
            alert.acknowledged_note = note
        self.session.flush()


def _river(h: _History, gauges: list[dict[str, Any]], now: dt.datetime) -> None:
    """Two floods after rain upstream: up through alarm I (and II), back down within hours."""
    for gauge, days, peak in ((gauges[0], 4, 5.78), (gauges[-1], 11, 5.18)):
        start = now - dt.timedelta(days=days)
        mid = round((5.06 + peak) / 2, 2)
        for hour, height in enumerate((5.06, mid, peak, mid, 4.95, 4.82)):
            h.reading(gauge, "WaterObserved", start + dt.timedelta(hours=2 * hour), height=height)


def _air(h: _History, stations: list[dict[str, Any]], now: dt.datetime) -> None:
    """Morning rush hours under the night inversion: AQI over 150 for a few hours."""
    for station, days, aqi in ((stations[0], 2, 158), (stations[-1], 6, 171)):
        start = (now - dt.timedelta(days=days)).replace(hour=0, minute=30, second=0, microsecond=0)
        for hour, value in enumerate((aqi - 6, aqi, aqi - 4, 128)):
            h.reading(
                station,
                "AirQualityObserved",
                start + dt.timedelta(hours=hour),
                airQualityIndex=value,
            )


def _lights(
    h: _History, lights: list[dict[str, Any]], now: dt.datetime, rng: random.Random
) -> None:
    """Lamp faults the scan found and cleared after repair; one still open, with the crew."""
    kinds = ("no_power", "no_heartbeat", "on_in_daylight")
    for n, light in enumerate(rng.sample(lights, min(6, len(lights)))):
        kind = kinds[n % 3]
        found = now - dt.timedelta(days=rng.uniform(1, 13))
        data = {"light_id": light["id"], "kind": kind, "detail": "", "severity": "medium"}
        h.feed(Event("streetlight.fault", data, time=found))
        if n == 0:
            alert = h._latest("streetlight-fault", light["id"])
            if alert is not None and alert.status == "open":
                h.feed(Event("streetlight.fault", data, time=now - dt.timedelta(hours=3)))
                note = "Đã báo Công ty Chiếu sáng đô thị, tổ sửa chữa đang đến"
                h.by_operator(alert, now - dt.timedelta(hours=2), note, resolve=False)
            continue
        repaired = found + dt.timedelta(hours=rng.uniform(1.5, 8))
        h.feed(Event("streetlight.fault_cleared", data, time=repaired))


def _cameras(
    h: _History, cameras: list[dict[str, Any]], now: dt.datetime, rng: random.Random
) -> None:
    """Congestion at rush hours (resolved once it stops), smoke: one handled, one just now."""
    for _ in range(8):
        cam = rng.choice(cameras)
        day = now - dt.timedelta(days=rng.randint(1, 13))
        at = day.replace(hour=rng.choice((0, 1, 10, 11)), minute=rng.randint(0, 59))
        data = {"camera_id": cam["id"], "kind": "congestion", "confidence": 0.8}
        for k in range(rng.randint(1, 4)):
            h.feed(Event("camera.congestion", data, time=at + dt.timedelta(minutes=10 * k)))
        service.expire_stale(h.session, at + dt.timedelta(hours=2))
    smoke = {"camera_id": cameras[0]["id"], "kind": "smoke", "confidence": 0.83}
    (alert,) = h.feed(Event("camera.smoke", smoke, time=now - dt.timedelta(days=1, hours=5)))
    h.by_operator(
        alert,
        now - dt.timedelta(days=1, hours=4, minutes=50),
        "Người dân đốt rơm rạ; đã báo UBND phường nhắc nhở, không có cháy",
        resolve=True,
    )
    fresh = {"camera_id": cameras[-1]["id"], "kind": "smoke", "confidence": 0.91}
    h.feed(Event("camera.smoke", fresh, time=now - dt.timedelta(minutes=25)))


def _feedback(h: _History, now: dt.datetime) -> None:
    """The open requests the demo's history raised to the level above, as their events would."""
    from ioc.feedback import queue

    admin = Principal("user", None, "demo", frozenset({"admin"}))
    wanted = queue.QueueFilter(overdue=True, escalated=True, sort="due")
    requests, _ = queue.search(h.session, admin, wanted, limit=1000, offset=0, now=now)
    for req in requests:
        data = {
            "id": req.id,
            "service_code": req.service_code,
            "status": req.status,
            "agency_code": req.agency_code,
            "escalated_to": req.escalated_to,
            "level": req.escalation_level,
        }
        at = req.escalated_at or now
        h.feed(Event("feedback.escalated", data, time=at, place_code=req.place_code))


def alerts_step(ctx: DemoContext) -> None:
    """Past alerts over the city's fleet (when the demo has one)."""
    if not ctx.devices:
        return  # no fleet to raise alerts about (the test suite's shared demo)
    broker = Broker(ctx.database, Settings(database_url=ctx.database.url))
    limits = Thresholds.of(Settings(database_url=ctx.database.url))
    now = utcnow()
    rng = random.Random(7)
    with ctx.database.session(ACTOR) as session:
        h = _History(session, limits)
        kinds = {}
        for name in ("WaterObserved", "AirQualityObserved", "Streetlight", "Camera"):
            kinds[name] = _entities(session, broker, name)
            for values in kinds[name]:
                h.lookup[values["id"]] = values
        if kinds["WaterObserved"]:
            _river(h, kinds["WaterObserved"], now)
        if kinds["AirQualityObserved"]:
            _air(h, kinds["AirQualityObserved"], now)
        if kinds["Streetlight"]:
            _lights(h, kinds["Streetlight"], now, rng)
        if kinds["Camera"]:
            _cameras(h, kinds["Camera"], now, rng)
        _feedback(h, now)
        from sqlalchemy import func, select

        total = session.scalar(select(func.count()).select_from(Alert)) or 0
        active = session.scalar(
            select(func.count()).select_from(Alert).where(Alert.status != "resolved")
        )
    ctx.notes.append(f"alerts: {total} over the last fortnight, {active} still active")
