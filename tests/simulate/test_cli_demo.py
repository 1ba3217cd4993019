"""``ioc simulate devices``, the demo's devices step, and the server's simulator task."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ioc.cli import app
from ioc.core.db import Database
from ioc.demo.builder import DEMO_STEPS, DemoContext
from ioc.devices.models import CameraEvent
from ioc.ingest.models import Device
from ioc.simulate.demo import devices_step
from tests.simulate.conftest import lights


def devices(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Device)) or 0)


def test_simulate_devices_once_in_process(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    monkeypatch.delenv("IOC_MQTT_URL", raising=False)
    args = ["simulate", "devices", "--lights", "30", "--cameras", "2", "--air", "1", "--water",
            "1", "--traffic", "1", "--once", "--seed", "3"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    out = " ".join(result.output.split())
    assert result.exit_code == 0, out
    assert "fleet: 30 light, 2 camera, 1 air, 1 water, 1 traffic, 2 groups, 1 cabinets" in out
    assert "in-process" in out and "stopped after 1 round(s): 35 readings" in out
    assert devices(demo_db) == 35
    assert {v["powerState"] for v in lights(demo_db).values()} <= {"on", "off"}
    assert len(lights(demo_db)) == 30
    again = CliRunner().invoke(app, args)
    assert "(0 entities, 0 devices new)" in " ".join(again.output.split())


def test_simulate_refuses_an_unreachable_broker(
    demo_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    args = ["simulate", "devices", "--lights", "5", "--once", "--mqtt", "mqtt://127.0.0.1:9"]
    result = CliRunner().invoke(app, [*args, "--cameras", "0"])
    assert result.exit_code == 2
    assert "no MQTT broker at 127.0.0.1:9" in " ".join(result.output.split())


def test_the_demo_step_adds_the_fleet_only_when_asked(demo_db: Database) -> None:
    assert "ioc.simulate.demo:devices_step" in DEMO_STEPS
    devices_step(DemoContext(demo_db))  # the test suite's demo: no fleet
    assert devices(demo_db) == 0
    ctx = DemoContext(demo_db, devices=True)
    started = time.perf_counter()
    devices_step(ctx)
    took = time.perf_counter() - started
    assert devices(demo_db) == 2100
    assert ctx.notes == [
        "devices: 2000 light, 50 camera, 20 air, 10 water, 20 traffic, 80 groups, 40 cabinets "
        "(2100 registered)"
    ]
    assert took < 30  # a few seconds on a laptop; generous for a shared CI machine


def test_the_server_streams_the_fleet(
    demo_db: Database, app_factory: Callable[..., TestClient]
) -> None:
    app_factory(device_simulator=True, device_simulator_seconds=3600)
    deadline = time.monotonic() + 60

    def streaming() -> bool:
        with demo_db.session() as session:
            events = session.scalar(select(func.count()).select_from(CameraEvent))
        return bool(events) and len(lights(demo_db)) == 2000

    while not streaming():
        assert time.monotonic() < deadline, "the simulator did not stream"
        time.sleep(0.2)
    state = lights(demo_db)
    assert all("powerState" in v and "energyConsumed" in v for v in state.values())
