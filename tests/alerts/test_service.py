"""Raising, de-duplicating, resolving: the service on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ioc.alerts import service
from ioc.alerts.models import Alert
from ioc.core.auth import Principal
from ioc.core.db import Database, utcnow
from ioc.core.models import AuditEntry, OutboxEvent
from ioc.core.problems import Forbidden, Invalid

from .conftest import LIGHT, clear, trig

OPERATOR = Principal("user", 1, "vanhanh", frozenset({"operator"}))
LEADER = Principal("user", 2, "lanhdao", frozenset({"leader"}))


def events(database: Database) -> list[tuple[str, str | None]]:
    with database.session() as session:
        rows = session.execute(
            select(OutboxEvent.type, OutboxEvent.subject)
            .where(OutboxEvent.type.like("alert.%"))
            .order_by(OutboxEvent.id)
        )
        return [(r.type, r.subject) for r in rows]


def test_one_active_alert_per_rule_and_source(database: Database) -> None:
    start = utcnow() - dt.timedelta(hours=1)
    with database.session("system:alerts") as session:
        first = service.trigger(session, trig(at=start, fault="no_power"))
        again = service.trigger(session, trig(at=start + dt.timedelta(minutes=5), fault="no_power"))
        other = service.trigger(session, trig(source="urn:ngsi-ld:Streetlight:hb-sl-0002"))
        assert again.id == first.id and other.id != first.id
        assert first.count == 2
        assert first.last_seen == start + dt.timedelta(minutes=5)
        assert first.raised_at == start
        ids = (first.id, other.id)
    assert events(database) == [("alert.raised", str(ids[0])), ("alert.raised", str(ids[1]))]
    with database.session() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "alerts", AuditEntry.entity_id == str(ids[0])
            )
        ).all()
    assert audited == ["insert", "update"]  # raised, then bumped: each write audited


def test_severity_only_rises_and_says_so(database: Database) -> None:
    with database.session() as session:
        alert = service.trigger(session, trig("river-level", "urn:g", "info"))
        service.trigger(session, trig("river-level", "urn:g", "critical"))
        service.trigger(session, trig("river-level", "urn:g", "warning"))
        assert alert.severity == "critical" and alert.count == 3
        assert alert.title == "river-level urn:g critical"
    assert [t for t, _ in events(database)] == ["alert.raised", "alert.escalated"]


def test_a_light_clears_once_all_its_faults_have(database: Database) -> None:
    with database.session() as session:
        alert = service.trigger(session, trig(fault="no_power"))
        service.trigger(session, trig(fault="no_heartbeat"))
        assert alert.details["faults"] == ["no_heartbeat", "no_power"]
        service.clear(session, clear(fault="no_power"))
        assert alert.status == "open" and alert.details["faults"] == ["no_heartbeat"]
        service.clear(session, clear(fault="no_heartbeat"))
        assert alert.status == "resolved" and alert.resolved_note == "tự động: back to normal"
        # The next fault of the same light is a new alert.
        again = service.trigger(session, trig(fault="no_power"))
        assert again.id != alert.id
        assert service.clear(session, clear("river-level", "urn:none")) is None


def test_operator_workflow(database: Database) -> None:
    with database.session() as session:
        alert = service.trigger(session, trig())
        with pytest.raises(Forbidden):
            service.acknowledge(session, alert, LEADER, None)
        session.info["actor"] = OPERATOR.actor
        service.acknowledge(session, alert, OPERATOR, "  đang xử lý ")
        assert (alert.status, alert.acknowledged_by) == ("acknowledged", "user:vanhanh")
        assert alert.acknowledged_note == "đang xử lý"
        with pytest.raises(Invalid) as no_twice:
            service.acknowledge(session, alert, OPERATOR, None)
        assert no_twice.value.field == "status"
        with pytest.raises(Invalid) as no_note:
            service.resolve(session, alert, OPERATOR, "   ")
        assert no_note.value.field == "note"
        service.resolve(session, alert, OPERATOR, "đã thay bóng")
        assert (alert.status, alert.resolved_by, alert.resolved_note) == (
            "resolved",
            "user:vanhanh",
            "đã thay bóng",
        )
        # Bumping a resolved alert's (rule, source) raises a new one instead.
        assert service.trigger(session, trig()).id != alert.id
    assert [t for t, _ in events(database)] == [
        "alert.raised",
        "alert.acknowledged",
        "alert.resolved",
        "alert.raised",
    ]


def test_congestion_goes_stale(database: Database) -> None:
    now = utcnow()
    with database.session() as session:
        jam = service.trigger(session, trig("camera-congestion", "urn:cam", at=now))
        fire = service.trigger(
            session, trig("camera-fire", "urn:cam", "critical", at=now - dt.timedelta(days=1))
        )
        assert service.expire_stale(session, now + dt.timedelta(minutes=30)) == 0
        assert service.expire_stale(session, now + dt.timedelta(minutes=61)) == 1
        assert jam.status == "resolved" and fire.status == "open"  # fire waits for an operator


def test_the_database_refuses_a_second_active_alert(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with database.session() as session:
        service.trigger(session, trig())
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            Alert(
                rule="streetlight-fault",
                severity="info",
                title="x",
                title_en="x",
                source=LIGHT,
                source_type="entity",
                details={},
            )
        )


def test_a_round_raced_by_another_server_runs_again(database: Database) -> None:
    """Another server raised the same alert between this round's read and its insert."""
    from ioc.alerts import engine
    from ioc.alerts.rules import RULES, Thresholds
    from ioc.context.service import Broker
    from ioc.core.config import Settings
    from ioc.core.events import Event

    raced = {"done": False}
    real_active = service.active

    def active_after_a_race(session, rule, source):  # type: ignore[no-untyped-def]
        found = real_active(session, rule, source)
        if not raced["done"]:
            raced["done"] = True
            with database.session("system:alerts") as other:
                service.trigger(other, trig())
        return found

    data = {"light_id": LIGHT, "kind": "no_power"}
    service.active = active_after_a_race  # type: ignore[assignment]
    try:
        changed = engine.process(
            database,
            Broker(database, Settings(database_url=database.url)),
            [Event("streetlight.fault", data)],
            Thresholds(),
            frozenset(RULES),
        )
    finally:
        service.active = real_active  # type: ignore[assignment]
    assert changed == 1
    with database.session() as session:
        (alert,) = session.scalars(select(Alert)).all()
        assert alert.count == 2
