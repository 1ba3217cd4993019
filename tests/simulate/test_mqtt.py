"""The fleet over the real Mosquitto, stored by the real bridge; a light answering a command."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ioc.core.db import Database
from ioc.ingest.commands import send_command
from ioc.ingest.models import Command
from ioc.simulate.fleet import Sizes
from ioc.simulate.runner import Simulator
from tests.ingest.conftest import MQTT_URL, Running, forget_session, wait_for
from tests.simulate.conftest import NIGHT, entity, lights, make

TINY = Sizes(lights=8, cameras=1, air=1, water=1, traffic=1)


@pytest.fixture
def bridge(demo_db: Database) -> Iterator[Running]:
    client_id = "ioc-test-sim-" + uuid.uuid4().hex[:8]
    running = Running(demo_db, client_id)
    yield running
    running.stop()
    forget_session(client_id)


@pytest.fixture
def on_mqtt(demo_db: Database, bridge: Running) -> Iterator[Simulator]:
    sim = make(demo_db, MQTT_URL, sizes=TINY)
    sim.start()
    yield sim
    sim.close()


def status(database: Database, command_id: int) -> Any:
    with database.session() as session:
        command = session.get(Command, command_id)
        assert command is not None
        return command.status, command.info


def test_readings_round_trip_through_mosquitto_and_the_bridge(
    demo_db: Database, bridge: Running, on_mqtt: Simulator
) -> None:
    report = on_mqtt.tick(NIGHT)
    assert report.readings == 12
    wait_for(lambda: bridge.bridge.stored >= 12, what="the bridge to store 12 readings")
    state = lights(demo_db)
    assert {v["powerState"] for v in state.values()} == {"on"}
    assert all(v["powerConsumption"] > 50 for v in state.values())
    gauge = entity(demo_db, on_mqtt.fleet.of("water")[0].entity_id)
    assert gauge["height"] > 0
    assert bridge.bridge.dead == 0


def test_a_light_answers_a_switch_command(
    demo_db: Database, bridge: Running, on_mqtt: Simulator
) -> None:
    on_mqtt.tick(NIGHT)
    wait_for(lambda: bridge.bridge.stored >= 12, what="the first readings")
    lamp = on_mqtt.fleet.of("light")[0]
    with demo_db.session("user:vanhanh") as session:
        command_id = send_command(session, lamp.device_id, "switch", "off", "user:vanhanh").id
    wait_for(lambda: status(demo_db, command_id)[0] == "OK", what="the light's answer")
    assert status(demo_db, command_id) == ("OK", "switch off")
    assert on_mqtt.link is not None and on_mqtt.link.answered == 1

    def switched() -> bool:
        return lights(demo_db)[lamp.entity_id]["powerState"] == "off"

    wait_for(switched, what="the light's new state")
    values = entity(demo_db, lamp.entity_id)
    assert values["switch_status"] == "OK" and values["powerConsumption"] == 0.0
    with demo_db.session("user:vanhanh") as session:
        bad = send_command(session, lamp.device_id, "dim", 250, "user:vanhanh").id
    wait_for(lambda: status(demo_db, bad)[0] == "ERROR", what="a refused dim")
    assert status(demo_db, bad)[1].startswith("ERROR bad dim value")
