"""Streetlight operations: a target picks its lights, each light's device gets an MQTT command,
the device's acknowledgement comes back as the command's status."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ioc.core.scope import Scope
from ioc.ingest.bridge import broker_address
from ioc.ingest.models import Command
from ioc.ingest.schemas import DeviceCreate
from ioc.ingest.service import add_device
from tests.devices.conftest import DA_BAC_TOWN, TAN_HOA, THAI_BINH, Devices, point, prop, rel
from tests.ingest.conftest import MQTT_URL, Running, forget_session, wait_for

BASE = "/api/v1/streetlights"
L = "urn:ngsi-ld:Streetlight:"
GROUP1, GROUP2 = "urn:ngsi-ld:StreetlightGroup:g1", "urn:ngsi-ld:StreetlightGroup:g2"
CABINET = "urn:ngsi-ld:StreetlightControlCabinet:c1"


def light(n: int, at: tuple[float, float], **extra: object) -> dict[str, object]:
    return {
        "id": f"{L}{n}",
        "type": "Streetlight",
        "location": point(at),
        "status": prop("ok"),
        "powerState": prop("off"),
        **extra,
    }


@pytest.fixture
def city(dev: Devices) -> str:
    """Five lights, two groups and a cabinet; devices for lights 1-4; returns the MQTT key."""
    dev.create({"id": CABINET, "type": "StreetlightControlCabinet", "location": point(TAN_HOA)})
    dev.create(
        {
            "id": GROUP1,
            "type": "StreetlightGroup",
            "location": point(THAI_BINH),
            "refStreetlightControlCabinet": rel(CABINET),
            "refStreetlight": {"type": "Relationship", "object": [f"{L}3"]},
        }
    )
    dev.create({"id": GROUP2, "type": "StreetlightGroup", "location": point(DA_BAC_TOWN)})
    dev.create(light(1, THAI_BINH, refStreetlightGroup=rel(GROUP1)))
    dev.create(light(2, TAN_HOA, refStreetlightControlCabinet=rel(CABINET)))
    dev.create(light(3, THAI_BINH))
    dev.create(light(4, DA_BAC_TOWN, refStreetlightGroup=rel(GROUP2)))
    dev.create(light(5, DA_BAC_TOWN))
    key = "sl" + uuid.uuid4().hex[:10]
    with dev.database.session("test") as session:
        for n in range(1, 5):
            body = DeviceCreate(
                device_id=f"{key}-lamp{n}",
                apikey=key,
                entity_id=f"{L}{n}",
                entity_type="Streetlight",
                commands=["switch", "dim", "schedule"],
            )
            add_device(session, body, Scope.everywhere())
    return key


def command(
    dev: Devices, target: dict[str, str], action: str, value: Any, who: str = "operator"
) -> Any:
    headers = getattr(dev, who)
    return dev.client.post(
        f"{BASE}/commands",
        json={"target": target, "action": action, "value": value},
        headers=headers,
    )


def lights_of(body: dict[str, Any]) -> list[str]:
    return [x["light"].removeprefix(L) for x in body["lights"]]


def test_targets_pick_their_lights(dev: Devices, city: str) -> None:
    one = command(dev, {"light": f"{L}2"}, "switch", "on")
    assert one.status_code == 201, one.text
    assert lights_of(one.json()) == ["2"]
    assert one.json()["status"] == {"PENDING": 1}

    group = command(dev, {"group": GROUP1}, "dim", 40).json()
    assert lights_of(group) == ["1", "3"]  # 1 names the group, the group lists 3
    cabinet = command(dev, {"cabinet": CABINET}, "switch", "off").json()
    assert lights_of(cabinet) == ["1", "2", "3"]  # 2 directly, 1 and 3 through group 1
    commune = command(dev, {"commune": "04831"}, "schedule", {"on": "18:00", "off": "05:30"}).json()
    assert lights_of(commune) == ["4", "5"]
    assert commune["place_code"] == "04831"
    assert commune["status"] == {"PENDING": 1, "NOT_SENT": 1}
    five = commune["lights"][1]
    assert five["command_id"] is None and "no device" in five["info"]
    district = command(dev, {"commune": "148"}, "switch", "on").json()
    assert lights_of(district) == ["1", "2", "3"]

    with dev.database.session() as session:
        sent = session.query(Command).filter(Command.device_id == f"{city}-lamp4").one()
        assert (sent.name, sent.value, sent.status) == (
            "schedule",
            {"value": {"on": "18:00", "off": "05:30"}},
            "PENDING",
        )
        assert sent.actor == "user:vanhanh"
    published = dev.events("streetlight.command")
    assert len(published) == 5
    assert published[1][1]["target"] == {"kind": "group", "id": GROUP1}
    assert published[1][1]["commands"] == 2

    followed = dev.client.get(f"{BASE}/commands/{group['id']}", headers=dev.leader).json()
    assert followed["action"] == "dim" and followed["value"] == 40
    listed = dev.client.get(f"{BASE}/commands", headers=dev.operator).json()
    assert [o["id"] for o in listed][:2] == [district["id"], commune["id"]]


def test_scope_and_bad_orders(dev: Devices, city: str) -> None:
    assert command(dev, {"cabinet": CABINET}, "switch", "on", "dabac").status_code == 404
    mine = command(dev, {"commune": "150"}, "switch", "on", "dabac")
    assert mine.status_code == 201 and lights_of(mine.json()) == ["4", "5"]
    assert (
        dev.client.get(f"{BASE}/commands", headers=dev.dabac).json()[0]["id"] == mine.json()["id"]
    )
    other = command(dev, {"light": f"{L}1"}, "switch", "on").json()["id"]
    assert dev.client.get(f"{BASE}/commands/{other}", headers=dev.dabac).status_code == 404

    assert command(dev, {"light": f"{L}9"}, "switch", "on").status_code == 404
    bad = command(dev, {"light": f"{L}1"}, "dim", 150)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "value"
    bad = command(dev, {"light": f"{L}1"}, "schedule", {"on": "25:00", "off": "05:00"})
    assert bad.json()["errors"][0]["field"] == "value.on"
    assert command(dev, {"light": f"{L}1", "group": GROUP1}, "switch", "on").status_code == 422
    assert command(dev, {"commune": "99999"}, "switch", "on").status_code == 422
    assert command(dev, {"light": f"{L}1"}, "switch", "on", "leader").status_code == 403


class Lamp:
    """A streetlight controller on the real Mosquitto: obeys switch, refuses dim above 90."""

    def __init__(self, key: str, device_id: str) -> None:
        self.received: list[dict[str, Any]] = []
        self.topic = f"/{key}/{device_id}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(*broker_address(MQTT_URL))
        self.client.subscribe(self.topic + "/cmd", qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = orjson.loads(msg.payload)
        self.received.append(body)
        answer = {
            name: {"error": "level too high"} if name == "dim" and value > 90 else f"{name} {value}"
            for name, value in body.items()
        }
        client.publish(self.topic + "/cmdexe", orjson.dumps(answer), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def bridge(dev: Devices) -> Iterator[Running]:
    client_id = "ioc-test-sl-" + uuid.uuid4().hex[:8]
    running = Running(dev.database, client_id)
    yield running
    running.stop()
    forget_session(client_id)


def test_commands_reach_the_lamps_and_their_answers_come_back(
    dev: Devices, city: str, bridge: Running
) -> None:
    lamps = [Lamp(city, f"{city}-lamp{n}") for n in (1, 3)]
    try:
        order = command(dev, {"group": GROUP1}, "switch", "on").json()

        def settled() -> dict[str, Any] | None:
            body: dict[str, Any] = dev.client.get(
                f"{BASE}/commands/{order['id']}", headers=dev.operator
            ).json()
            return body if body["status"] == {"OK": 2} else None

        done = wait_for(settled, what="both lamps acknowledging")
        assert [x["info"] for x in done["lights"]] == ["switch on", "switch on"]
        refused = command(dev, {"light": f"{L}3"}, "dim", 95).json()
        wait_for(
            lambda: (
                dev.client.get(f"{BASE}/commands/{refused['id']}", headers=dev.operator).json()[
                    "status"
                ]
                == {"ERROR": 1}
            ),
            what="the refusal",
        )
        assert lamps[0].received == [{"switch": "on"}]
        assert lamps[1].received == [{"switch": "on"}, {"dim": 95}]
    finally:
        for lamp in lamps:
            lamp.close()
