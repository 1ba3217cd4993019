"""The MQTT bridge against the real Mosquitto: a bridge on a thread, a publisher, helpers."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select

from ioc.context.jsonld import CORE_TERMS
from ioc.context.service import Broker
from ioc.context.store import Stored
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.models import OutboxEvent
from ioc.core.scope import Scope
from ioc.ingest.bridge import Bridge, broker_address
from ioc.ingest.models import DeadLetter
from ioc.ingest.schemas import AttributeMap, DeviceCreate
from ioc.ingest.service import add_device

MQTT_URL = os.environ.get("IOC_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def forget_session(client_id: str) -> None:
    """End a persistent MQTT session (so tests leave nothing queued in Mosquitto)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    client.connect(*broker_address(MQTT_URL), clean_start=True, properties=props)
    client.disconnect()


class Publisher:
    """A plain MQTT client publishing at QoS 1 (and subscribing, for fake devices)."""

    def __init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.connect(*broker_address(MQTT_URL))
        self.client.loop_start()

    def send(self, topic: str, payload: Any, qos: int = 1) -> None:
        data = payload if isinstance(payload, bytes | str) else orjson.dumps(payload)
        self.client.publish(topic, data, qos=qos).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Running:
    """A bridge running on a thread of its own with its own event loop."""

    def __init__(self, database: Database, client_id: str, lanes: int = 1) -> None:
        settings = Settings(database_url=database.url, mqtt_url=MQTT_URL)
        self.bridge = Bridge(database, settings, client_id=client_id, lanes=lanes)
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task[None] | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.bridge.connected.wait(10), "the bridge did not connect to Mosquitto"
        time.sleep(0.2)  # the subscriptions are acknowledged

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.task = self.loop.create_task(self.bridge.run())
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass
        finally:
            self.loop.close()

    def stop(self) -> None:
        if self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)


@pytest.fixture
def key() -> str:
    """A service-group API key of this test alone, so tests never see each other's traffic."""
    return "k" + uuid.uuid4().hex[:10]


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    pub = Publisher()
    yield pub
    pub.close()


@pytest.fixture
def bridge(database: Database) -> Iterator[Running]:
    client_id = "ioc-test-" + uuid.uuid4().hex[:8]
    running = Running(database, client_id)
    yield running
    running.stop()
    forget_session(client_id)


def register(
    database: Database,
    device_id: str,
    apikey: str,
    *,
    commands: list[str] | None = None,
    protocol: str = "mqtt",
    place_code: str | None = None,
) -> None:
    """A weather-station-like device: t → temperature, h → relativeHumidity, s → status."""
    body = DeviceCreate(
        device_id=device_id,
        apikey=apikey,
        entity_type="WeatherObserved",
        attributes=[
            AttributeMap(object_id="t", name="temperature", type="Number", unit_code="CEL"),
            AttributeMap(object_id="h", name="relativeHumidity", type="Integer"),
            AttributeMap(object_id="s", name="status", type="Text"),
            AttributeMap(object_id="p", name="location", type="geo:point"),
        ],
        commands=commands or [],
        protocol=protocol,
        place_code=place_code,
    )
    with database.session("test") as session:
        add_device(session, body, Scope.everywhere())


def entity(database: Database, device_id: str) -> Stored | None:
    broker = Broker(database, Settings(database_url=database.url))
    with database.engine.connect() as conn:
        return broker.store.read(conn, "default", f"urn:ngsi-ld:WeatherObserved:{device_id}")


def value(database: Database, device_id: str, name: str) -> Any:
    stored = entity(database, device_id)
    if stored is None or CORE_TERMS.expand(name) not in stored.attrs:
        return None
    return stored.attrs[CORE_TERMS.expand(name)][0]


def dead_letters(database: Database) -> list[DeadLetter]:
    with database.session() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def entity_events(database: Database) -> list[OutboxEvent]:
    with database.session() as session:
        return list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type.startswith("entity."))
                .order_by(OutboxEvent.id)
            )
        )
