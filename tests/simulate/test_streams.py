"""One tick in-process writes real entities and history; faults reach the fault scan; the
simulated lights answer commands sent from the IOC."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ioc.context.jsonld import CORE_TERMS
from ioc.context.temporal_models import AttributeHistory
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.scope import Scope
from ioc.devices.faults import Rules, scan
from ioc.devices.models import CameraEvent
from ioc.devices.streetlights import operate, operation_out
from ioc.ingest.models import Command
from ioc.simulate.fleet import Spec
from ioc.simulate.runner import Simulator
from ioc.simulate.streams import aqi, level, rush, traffic_share
from tests.simulate.conftest import NIGHT, NOON, broker_of, entity, lights, make

RULES = Rules.of(Settings())


def test_lights_on_at_night_off_at_noon(demo_db: Database, sim: Simulator) -> None:
    report = sim.tick(NIGHT)
    assert report.readings == 77 and report.refused == 0
    night = lights(demo_db)
    assert len(night) == 60
    assert {v["powerState"] for v in night.values()} == {"on"}
    for spec in sim.fleet.of("light"):
        values = night[spec.entity_id]
        assert values["powerConsumption"] > 0.9 * spec.rated_w
        assert values["illuminanceLevel"] == 1.0
    heartbeat = sim.tick(NIGHT + dt.timedelta(hours=1))
    assert heartbeat.readings == 12 + 17  # nothing changed: a fifth of the lamps beat
    beating = [s for n, s in enumerate(sim.fleet.of("light")) if n % 5 == 1]  # tick 1's turn
    later = lights(demo_db)
    for spec in beating:  # the meter counts one hour at the rated power
        kwh = later[spec.entity_id]["energyConsumed"]
        assert abs(kwh - spec.rated_w / 1000) < 0.05 * spec.rated_w / 1000
    sim.tick(NOON)
    noon = lights(demo_db)  # dawn came: every lamp reports its change
    assert {v["powerState"] for v in noon.values()} == {"off"}
    assert {v["powerConsumption"] for v in noon.values()} == {0.0}
    assert all(noon[k]["energyConsumed"] >= later[k]["energyConsumed"] for k in noon)


def test_a_tick_writes_every_kind_and_its_history(demo_db: Database, sim: Simulator) -> None:
    sim.tick(NIGHT)
    report = sim.tick(NIGHT + dt.timedelta(minutes=1))
    air = entity(demo_db, sim.fleet.of("air")[0].entity_id)
    assert 0 < air["pm25"] < air["pm10"] and air["no2"] > 0 and air["o3"] > 0
    assert air["airQualityIndex"] == aqi(air["pm25"])
    assert air["airQualityLevel"] == level(air["airQualityIndex"])
    assert air["dateObserved"].startswith("2026-11-20T13:01")
    water = entity(demo_db, sim.fleet.of("water")[0].entity_id)
    assert 2.5 < water["height"] < 7 and water["flow"] > 0
    counter = entity(demo_db, sim.fleet.of("traffic")[0].entity_id)
    assert counter["intensity"] > 0 and 0 <= counter["occupancy"] <= 1
    camera = entity(demo_db, sim.fleet.of("camera")[0].entity_id)
    assert camera["on"] is True
    assert report.events >= 6  # a vehicle count from each camera at least
    with demo_db.session() as session:
        kinds = set(session.scalars(select(CameraEvent.kind)))

        def history(spec: Spec, attr: str) -> int:
            stmt = select(func.count()).where(
                AttributeHistory.entity_id == spec.entity_id,
                AttributeHistory.attr == CORE_TERMS.expand(attr),
            )
            return int(session.scalar(stmt) or 0)

        assert history(sim.fleet.of("air")[0], "pm25") == 2  # both ticks, in the temporal store
        assert history(sim.fleet.of("light")[0], "powerConsumption") == 1  # not its heartbeat
    assert "vehicle_count" in kinds


def test_daily_cycles() -> None:
    assert rush(7.5) > 0.9 and rush(17.5) > 0.9 and rush(3) < 0.01 and rush(12.5) < 0.1
    assert traffic_share(3) < 0.15 < 0.4 < traffic_share(12.5) < traffic_share(8) <= 1
    assert (aqi(10), aqi(35.4), aqi(55.5), aqi(600)) == (42, 100, 151, 500)


def test_injected_faults_are_found_by_the_scan(demo_db: Database, sim: Simulator) -> None:
    first, second, third = (s.device_id for s in sim.fleet.of("light")[:3])
    sim.streams.inject(first, "no_power", NIGHT, dt.timedelta(hours=2))
    sim.streams.inject(second, "on_in_daylight", NIGHT, dt.timedelta(days=1))
    sim.streams.inject(third, "silent", NIGHT, dt.timedelta(days=1))
    report = sim.tick(NIGHT)
    assert report.readings == 76  # the silent one said nothing
    broker = broker_of(demo_db)
    with demo_db.session() as session:
        found = scan(session, broker, RULES, now=NIGHT).found
        assert {(f.light_id.rsplit(":", 1)[1], f.kind) for f in found} == {(first, "no_power")}
    sim.tick(NOON)
    with demo_db.session() as session:
        found = scan(session, broker, RULES, now=NOON).found
        kinds = {(f.light_id.rsplit(":", 1)[1], f.kind) for f in found}
        assert kinds == {(second, "on_in_daylight")}  # the no_power fault was repaired
        later = utcnow() + dt.timedelta(hours=2)  # the silent light's heartbeat is overdue
        silent = {f.light_id for f in scan(session, broker, RULES, now=later).found}
    assert f"urn:ngsi-ld:Streetlight:{third}" in silent
    assert "powerConsumption" not in entity(demo_db, f"urn:ngsi-ld:Streetlight:{third}")


def test_random_faults_at_the_configured_rate(demo_db: Database) -> None:
    sim = make(demo_db, fault_rate=1000.0)  # every device fails in the first hour
    sim.tick(NIGHT)
    report = sim.tick(NIGHT + dt.timedelta(minutes=1))
    assert len(report.faults) == 77
    kinds = {kind for device, kind in report.faults if "-sl-" in device}
    assert kinds == {"no_power", "silent", "on_in_daylight"}
    assert {kind for device, kind in report.faults if "-sl-" not in device} == {"silent"}
    quiet = make(demo_db, fault_rate=0.0, prefix="q")
    quiet.tick(NIGHT)
    assert quiet.tick(NIGHT + dt.timedelta(hours=5)).faults == []


def test_lights_answer_commands_in_process(demo_db: Database, sim: Simulator) -> None:
    sim.tick(NIGHT)
    group = sim.fleet.groups[0]["id"]
    broker = broker_of(demo_db)
    with demo_db.session("user:vanhanh") as session:
        operation = operate(
            session,
            broker,
            Scope.everywhere(),
            "user:vanhanh",
            action="switch",
            target_kind="group",
            target=group,
            value="off",
        )
        op_id = operation.id
    assert sim.answer_commands() == 25
    with demo_db.session() as session:
        from ioc.devices.models import StreetlightOperation

        out = operation_out(session, session.get(StreetlightOperation, op_id))  # type: ignore[arg-type]
        assert out["status"] == {"OK": 25}
        assert {li["info"] for li in out["lights"]} == {"switch off"}
        assert session.scalar(select(func.count()).where(Command.status == "PENDING")) == 0
    state = lights(demo_db)
    members = set(sim.fleet.groups[0]["refStreetlight"])
    assert {state[m]["powerState"] for m in members} == {"off"}
    assert {v["powerState"] for k, v in state.items() if k not in members} == {"on"}
    assert entity(demo_db, next(iter(members)))["switch_status"] == "OK"
