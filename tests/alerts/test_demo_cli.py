"""The demo's alert history over a small fleet, and ``ioc alerts list`` / ``rules``."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ioc.alerts.demo import alerts_step
from ioc.alerts.models import Alert
from ioc.cli import app
from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.demo.builder import DemoContext
from ioc.simulate.fleet import Sizes
from ioc.simulate.runner import Simulator

SMALL_FLEET = Sizes(lights=12, cameras=3, air=2, water=2, traffic=1)


@pytest.fixture
def history(demo_db: Database) -> list[Alert]:
    broker = Broker(demo_db, Settings(database_url=demo_db.url))
    Simulator.prepare(demo_db, broker, sizes=SMALL_FLEET)
    ctx = DemoContext(demo_db, devices=True)
    alerts_step(ctx)
    assert ctx.notes and ctx.notes[0].startswith("alerts: ")
    with demo_db.session() as session:
        rows = list(session.scalars(select(Alert).order_by(Alert.raised_at)))
        session.expunge_all()
        return rows


def test_demo_history(history: list[Alert]) -> None:
    rules = {a.rule for a in history}
    assert rules == {
        "river-level",
        "air-quality",
        "streetlight-fault",
        "camera-fire",
        "camera-congestion",
        "feedback-overdue",
    }
    river = [a for a in history if a.rule == "river-level"]
    # The bigger flood went through alarm II; both resolved by the rule when the river fell.
    assert sorted(a.severity for a in river) == ["info", "warning"]
    assert all(a.status == "resolved" and a.resolved_by == "system:alerts" for a in river)
    by_operator = [a for a in history if a.resolved_by == "user:vanhanh"]
    assert by_operator and all(a.resolved_note for a in by_operator)
    active = [a for a in history if a.status != "resolved" and a.rule != "feedback-overdue"]
    assert {(a.rule, a.status) for a in active} == {
        ("streetlight-fault", "acknowledged"),
        ("camera-fire", "open"),
    }
    assert all(a.lat is not None and a.place_code for a in history)


def test_demo_overdue_feedback(history: list[Alert], demo_db: Database) -> None:
    """Every open request the feedback history escalated has its alert, at its place."""
    from ioc.core.auth import Principal
    from ioc.feedback import queue

    admin = Principal("user", None, "t", frozenset({"admin"}))
    with demo_db.session() as session:
        wanted = queue.QueueFilter(overdue=True, escalated=True)
        requests, _ = queue.search(session, admin, wanted, limit=1000, offset=0)
        expected = {(f"feedback:{r.id}", r.place_code) for r in requests}
    found = {(a.source, a.place_code) for a in history if a.rule == "feedback-overdue"}
    assert found == expected and expected  # the fortnight of demo feedback has some
    assert all(a.status == "open" for a in history if a.rule == "feedback-overdue")


def test_cli(history: list[Alert], demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    runner = CliRunner()
    listed = runner.invoke(app, ["alerts", "list", "--status", "open"])
    assert listed.exit_code == 0, listed.output
    assert "camera-fire" in listed.output
    opened = sum(1 for a in history if a.status == "open")
    assert f"{opened} of {opened} alert(s)" in listed.output
    everything = runner.invoke(app, ["alerts", "list", "--limit", "1000"])
    assert f"{len(history)} of {len(history)} alert(s)" in everything.output
    bad = runner.invoke(app, ["alerts", "list", "--severity", "huge"])
    assert bad.exit_code == 2 and "severity" in bad.output
    rules = runner.invoke(app, ["alerts", "rules"])
    assert rules.exit_code == 0 and "river-level" in rules.output
    assert "5 / 5.6 / 6.2 m" in rules.output
    monkeypatch.setenv("IOC_ALERTS_RULES", "river-level,nope")
    wrong = runner.invoke(app, ["alerts", "rules"])
    assert wrong.exit_code == 2 and "unknown rule 'nope'" in wrong.output
