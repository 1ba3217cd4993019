"""The fleet on MQTT, as real IoT Agent JSON devices: readings published QoS 1 on
``/{apikey}/{device}/attrs``; commands taken on ``/{apikey}/+/cmd``, applied to the light and
answered on ``…/cmdexe`` (then the light's new state on ``…/attrs``)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ioc.core.db import utcnow
from ioc.ingest.bridge import broker_address
from ioc.simulate.fleet import Spec
from ioc.simulate.streams import Streams

log = logging.getLogger("ioc.simulate")
IN_FLIGHT = 1000  # QoS 1 messages awaiting Mosquitto's PUBACK at once
PUBLISH_TIMEOUT = 30.0


class MqttLink:
    """One MQTT connection speaking for every device of the fleet."""

    def __init__(self, url: str, apikey: str, streams: Streams, lock: threading.Lock) -> None:
        self.apikey = apikey
        self.streams = streams
        self.lock = lock  # held while the streams' state changes (ticks, commands)
        self.address = broker_address(url)
        self.connected = threading.Event()
        self.answered = 0
        self.on_answer: Callable[[str, str, bool], None] | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"ioc-sim-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.max_inflight_messages_set(IN_FLIGHT)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> None:
        """Connect (ConnectionError if Mosquitto does not answer in time)."""
        where = "{}:{}".format(*self.address)
        try:
            self.client.connect(*self.address, keepalive=30)
        except OSError as exc:
            raise ConnectionError(f"no MQTT broker at {where} ({exc})") from None
        self.client.loop_start()  # reconnects by itself if Mosquitto restarts later
        if not self.connected.wait(timeout):
            self.close()
            raise ConnectionError(f"the MQTT broker at {where} did not accept the simulator")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker refused the simulator: %s", reason)
            return
        result, _mid = client.subscribe(f"/{self.apikey}/+/cmd", qos=1)
        if result == mqtt.MQTT_ERR_SUCCESS:
            self.connected.set()

    def topic(self, spec: Spec | str, kind: str = "attrs") -> str:
        device_id = spec if isinstance(spec, str) else spec.device_id
        return f"/{self.apikey}/{device_id}/{kind}"

    def publish(self, messages: list[tuple[Spec, dict[str, Any]]]) -> int:
        """Publish the readings QoS 1 and wait until Mosquitto has them all."""
        sent = [self.client.publish(self.topic(s), orjson.dumps(v), qos=1) for s, v in messages]
        for info in sent:
            info.wait_for_publish(PUBLISH_TIMEOUT)
        return len(sent)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.strip("/").split("/")
        if len(parts) != 3 or parts[2] != "cmd":
            return
        device_id = parts[1]
        try:
            body = orjson.loads(msg.payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(body, dict):
            return
        now = utcnow()
        for name, value in body.items():
            with self.lock:
                ok, info = self.streams.command(device_id, name, value, now)
                reading = self.streams.reading(device_id, now) if ok else None
            self.client.publish(self.topic(device_id, "cmdexe"), orjson.dumps({name: info}), qos=1)
            if reading is not None:
                self.client.publish(self.topic(device_id), orjson.dumps(reading), qos=1)
            self.answered += 1
            if self.on_answer is not None:
                self.on_answer(device_id, name, ok)
