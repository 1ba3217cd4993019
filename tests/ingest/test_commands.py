"""Commands down to devices: published as IoT Agent JSON, settled by the device's cmdexe."""

from __future__ import annotations

from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ioc.core.db import Database
from ioc.core.problems import Invalid, NotFound
from ioc.ingest.bridge import broker_address
from ioc.ingest.commands import send_command
from ioc.ingest.models import Command
from tests.ingest.conftest import MQTT_URL, Running, register, value, wait_for


class FakeDevice:
    """An MQTT device that answers every command on its cmd topic through cmdexe."""

    def __init__(self, key: str, device_id: str, reply: Any = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.reply = reply
        self.key, self.device_id = key, device_id
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(*broker_address(MQTT_URL))
        self.client.subscribe(f"/{key}/{device_id}/cmd", qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = orjson.loads(msg.payload)
        self.received.append(body)
        if self.reply is not None:
            answer = {name: self.reply(name, value) for name, value in body.items()}
            client.publish(f"/{self.key}/{self.device_id}/cmdexe", orjson.dumps(answer), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def status(database: Database, command_id: int) -> Command:
    with database.session() as session:
        command = session.get(Command, command_id)
        assert command is not None
        return command


def queue(database: Database, device_id: str, name: str, value: Any, **kw: Any) -> int:
    with database.session("test") as session:
        command = send_command(session, device_id, name, value, "user:vanhanh", **kw)
        assert command.status == "PENDING"
        return command.id


def test_command_round_trip(database: Database, bridge: Running, key: str) -> None:
    register(database, "lamp-1", key, commands=["switch", "dim"])
    device = FakeDevice(key, "lamp-1", reply=lambda name, v: f"{name} {v} done")
    try:
        command_id = queue(database, "lamp-1", "switch", "on")
        done = wait_for(lambda: status(database, command_id).status == "OK", what="OK")
        assert done
        assert device.received == [{"switch": "on"}]
        command = status(database, command_id)
        assert command.info == "switch on done"
        assert command.sent_at is not None and command.done_at is not None
        assert value(database, "lamp-1", "switch_status")["value"] == "OK"
        assert value(database, "lamp-1", "switch_info")["value"] == "switch on done"
        # a structured value goes as it is
        second = queue(database, "lamp-1", "dim", {"level": 40})
        wait_for(lambda: status(database, second).status == "OK", what="second OK")
        assert device.received[-1] == {"dim": {"level": 40}}
    finally:
        device.close()


def test_a_device_reporting_an_error(database: Database, bridge: Running, key: str) -> None:
    register(database, "lamp-2", key, commands=["switch"])
    device = FakeDevice(key, "lamp-2", reply=lambda name, v: {"error": "relay stuck"})
    try:
        command_id = queue(database, "lamp-2", "switch", "off")
        wait_for(lambda: status(database, command_id).status == "ERROR", what="ERROR")
        assert status(database, command_id).info == "relay stuck"
        assert value(database, "lamp-2", "switch_status")["value"] == "ERROR"
    finally:
        device.close()


def test_unanswered_command_expires(database: Database, bridge: Running, key: str) -> None:
    register(database, "lamp-3", key, commands=["switch"])
    device = FakeDevice(key, "lamp-3", reply=None)  # receives, never answers
    try:
        command_id = queue(database, "lamp-3", "switch", "on", expires_in=2.0)
        wait_for(lambda: device.received, what="the command to arrive")
        wait_for(lambda: status(database, command_id).status == "EXPIRED", what="EXPIRED")
        assert value(database, "lamp-3", "switch_status")["value"] == "EXPIRED"
    finally:
        device.close()


def test_send_command_refuses_unknown_devices_and_commands(database: Database, key: str) -> None:
    register(database, "lamp-4", key, commands=["switch"])
    with database.session("test") as session, pytest.raises(NotFound):
        send_command(session, "nobody", "switch", "on", "test")
    with database.session("test") as session, pytest.raises(Invalid) as caught:
        send_command(session, "lamp-4", "explode", True, "test")
    assert "takes no command 'explode'" in caught.value.detail
