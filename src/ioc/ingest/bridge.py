"""The MQTT bridge: FIWARE IoT Agent JSON topics in, NGSI-LD entity updates and commands out.

Topics (with or without the leading ``/``): ``/{apikey}/{device_id}/attrs`` (a JSON object of
measurements), ``/{apikey}/{device_id}/attrs/{attr}`` (one value), ``/{apikey}/{device_id}/
cmdexe`` (a device's answer to a command); commands go down on ``/{apikey}/{device_id}/cmd``.

No loss: the bridge keeps a persistent session (fixed client id, ``clean_start=False``, a
session that never expires) and acknowledges a QoS 1 message only after the transaction that
stored it (or its dead letter) committed, and in the order they came (as MQTT asks).
Messages waiting at a moment are handled in one job of a group writer, so one commit carries
many measurements. On PostgreSQL the messages are spread over ``lanes`` writers by device
(each on a connection of its own): while one lane waits for the database another works, and
a device's messages all go through one lane, in order. A message
delivered again after a crash finds its measurement already stored (same ``observedAt``)
and changes nothing. Whatever is wrong with one message goes to the dead letters; the
bridge never stops for it.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.group_writer import GroupWriter
from ioc.core.problems import Problem
from ioc.ingest import commands, service
from ioc.ingest.lock import run_exclusive
from ioc.ingest.payloads import answer, decode, decode_value
from ioc.ingest.service import DeviceInfo, Rejected
from ioc.ingest.wire import ChunkedClient

log = logging.getLogger("ioc.ingest")

ACTOR = "system:ingest"
BATCH = 2000  # messages at most in one job (one transaction)
COMMAND_POLL_SECONDS = 0.25
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
RECEIVE_MAXIMUM = 65535  # unacknowledged QoS 1 messages the broker may send us at once
TOPICS = tuple(f"{lead}+/+/{kind}" for lead in ("/", "") for kind in ("attrs", "attrs/+", "cmdexe"))


@dataclass(slots=True)
class Inbound:
    """A message as received, with what is needed to acknowledge it later."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received: dt.datetime
    generation: int  # the connection it came on: an ack is only valid on that one
    done: bool = False  # stored or dead-lettered: may be acknowledged once those before are


def broker_address(url: str) -> tuple[str, int]:
    """``mqtt://host:1883`` → (host, port)."""
    parts = urlsplit(url if "://" in url else "mqtt://" + url)
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"IOC_MQTT_URL: {url!r} is not mqtt://host:port")
    return parts.hostname or "127.0.0.1", parts.port or 1883


def command_topic(device: DeviceInfo) -> str:
    return f"/{device.apikey}/{device.device_id}/cmd"


class Bridge:
    """One MQTT connection and the loop that stores what arrives on it."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        broker: Broker | None = None,
        client_id: str | None = None,
        lanes: int = 1,
    ) -> None:
        self.database = database
        self.broker = broker or Broker(database, settings)
        self.address = broker_address(settings.mqtt_url)
        self.client_id = client_id or settings.ingest_client_id
        self.stored = 0  # messages handled (stored or dead-lettered) and acknowledged
        self.dead = 0
        self.connected = threading.Event()
        if lanes < 1:
            raise ValueError("lanes: at least 1")
        # SQLite has one writer at a time: lanes there would only queue for its lock
        self.lanes = 1 if database.dialect == "sqlite" else lanes
        self._writers = (
            [self.broker.writer]
            if self.lanes == 1
            else [
                GroupWriter(database.sessionmaker, name=f"ingest-lane-{n}")
                for n in range(self.lanes)
            ]
        )
        self._inboxes: list[collections.deque[Inbound]] = [
            collections.deque() for _ in range(self.lanes)
        ]
        self._wakes = [asyncio.Event() for _ in range(self.lanes)]
        self._order: collections.deque[Inbound] = collections.deque()  # acks go in this order
        self._generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = self._make_client()

    # -- the MQTT side (paho's network thread) -------------------------------------------

    def _make_client(self) -> ChunkedClient:
        client = ChunkedClient(self.client_id, self._inbound)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.reconnect_delay_set(1, 5)
        return client

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason)
            return
        self._generation += 1
        client.subscribe([(topic, 1) for topic in TOPICS])
        self.connected.set()
        log.info("MQTT bridge connected to %s:%d as %s", *self.address, self.client_id)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        log.info("MQTT bridge disconnected: %s", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """What paho itself decoded (the chunked reader hands the rest to ``_inbound``)."""
        self._inbound(msg.topic, bytes(msg.payload), msg.mid, msg.qos)

    def _inbound(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        message = Inbound(topic, payload, mid, qos, utcnow(), self._generation)
        self._order.append(message)
        lane = 0
        if self.lanes > 1:  # by device: /{apikey}/{device}/…
            parts = topic.lstrip("/").split("/", 2)
            lane = hash(parts[1] if len(parts) > 1 else topic) % self.lanes
        self._inboxes[lane].append(message)
        wake = self._wakes[lane]
        if not wake.is_set() and self._loop is not None:
            self._loop.call_soon_threadsafe(wake.set)

    # -- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, then store what arrives and send commands until cancelled."""
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        host, port = self.address
        self._client.connect_async(host, port, keepalive=30, clean_start=False, properties=props)
        self._client.loop_start()
        tasks = [asyncio.create_task(self._command_loop(), name="ingest-commands")]
        for lane in range(self.lanes):
            tasks.append(asyncio.create_task(self._drain(lane), name=f"ingest-lane-{lane}"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._client.disconnect()
            self._client.loop_stop()

    async def _drain(self, lane: int) -> None:
        """Store one lane's messages, a batch at a time, in the order they came."""
        inbox, wake, writer = self._inboxes[lane], self._wakes[lane], self._writers[lane]
        while True:
            await wake.wait()
            wake.clear()
            while inbox:
                batch = [inbox.popleft() for _ in range(min(BATCH, len(inbox)))]
                await self._store(batch, writer)

    async def _store(self, batch: list[Inbound], writer: GroupWriter) -> None:
        """Store a batch (one job), else message by message; ack only what committed.

        While the database is away nothing is acknowledged: the batch is tried again every
        second (messages of an earlier connection are left to their redelivery).
        """
        pending = list(batch)
        whole = True
        while pending:
            try:
                if whole:
                    try:
                        await writer.run(self._job(pending), ACTOR, None)
                        self._ack(pending)
                        return
                    except OperationalError:
                        raise
                    except Exception:
                        log.exception("a batch of %d messages failed; one by one", len(pending))
                        whole = False
                while pending:
                    await self._store_alone(pending[0], writer)
                    self._ack(pending[:1])
                    pending.pop(0)
            except OperationalError as exc:
                log.error("the database is not answering (%s); retrying in 1 s", exc)
                await asyncio.sleep(1.0)
                pending = [m for m in pending if m.generation == self._generation]

    async def _store_alone(self, message: Inbound, writer: GroupWriter) -> None:
        """One message in a transaction of its own; an unexpected failure is a dead letter."""
        try:
            await writer.run(self._job([message], False), ACTOR, None)
        except OperationalError:
            raise
        except Exception as exc:
            log.exception("the message on %s failed", message.topic)
            reason = f"internal error: {exc}"
            await writer.run(self._letter(message, reason), ACTOR, None)

    def _ack(self, batch: list[Inbound]) -> None:
        """Mark ``batch`` done; acknowledge every done message not preceded by one still
        being stored (those of an earlier connection are past acknowledging: dropped)."""
        for message in batch:
            message.done = True
        self.stored += len(batch)
        order, generation, mids = self._order, self._generation, []
        while order and (order[0].done or order[0].generation != generation):
            message = order.popleft()
            if message.done and message.qos and message.generation == generation:
                if message.qos == 1:
                    mids.append(message.mid)
                else:  # QoS 2 is not subscribed to; paho's own way, should a broker send it
                    self._client.ack_many(mids)
                    mids = []
                    self._client.ack(message.mid, message.qos)
        self._client.ack_many(mids)

    def _letter(self, message: Inbound, reason: str) -> Any:
        def work(session: Session) -> None:
            parts = message.topic.strip("/").split("/")
            service.dead_letter(
                session,
                message.topic,
                message.payload,
                reason,
                parts[1] if len(parts) > 1 else None,
            )
            self.dead += 1

        return work

    def _job(self, batch: list[Inbound], batched: bool = True) -> Any:
        def work(session: Session) -> int:
            devices = service.registry(session)
            measured: list[tuple[Inbound, service.Measurement]] = []
            answers: list[tuple[Inbound, DeviceInfo, Any]] = []
            for message in batch:
                try:
                    device, parts = self._device(devices, message)
                    if parts[2] == "cmdexe":
                        answers.append((message, device, decode(message.payload)))
                    elif len(parts) == 4:
                        value, text = decode_value(message.payload)
                        values = {parts[3]: value}
                        measured.append(
                            (
                                message,
                                service.parse_values(device, values, message.received, text=text),
                            )
                        )
                    else:
                        values = decode(message.payload)
                        measured.append(
                            (message, service.parse_values(device, values, message.received))
                        )
                except (Rejected, Problem) as exc:
                    self._dead(session, message, exc)
            if batched:
                refused = service.write_many(self.broker, session, measured)
            else:  # retried alone after a failed batch: the broker's retrying single write
                refused = []
                for message, one in measured:
                    try:
                        service.write(self.broker, session, one.device, one.attrs)
                    except Problem as exc:
                        refused.append((message, exc.detail))
            for message, reason in refused:
                self._dead(session, message, Rejected(reason))
            for message, device, body in answers:  # after the measurements: they read anew
                try:
                    self._command_answer(session, device, body)
                except (Rejected, Problem) as exc:
                    self._dead(session, message, exc)
            return len(batch)

        return work

    def _dead(self, session: Session, message: Inbound, exc: Exception) -> None:
        reason = exc.detail if isinstance(exc, Problem) else str(exc)
        parts = message.topic.strip("/").split("/")
        device_id = parts[1] if len(parts) > 1 else None
        service.dead_letter(session, message.topic, message.payload, reason, device_id)
        self.dead += 1

    @staticmethod
    def _device(devices: dict[str, DeviceInfo], message: Inbound) -> tuple[DeviceInfo, list[str]]:
        """The registered device a topic names, and the topic's parts; Rejected otherwise."""
        parts = message.topic.strip("/").split("/")
        known = (len(parts) == 3 and parts[2] in ("attrs", "cmdexe")) or (
            len(parts) == 4 and parts[2] == "attrs"
        )
        if not known:
            raise Rejected("not an IoT Agent JSON topic (/{apikey}/{device}/attrs|cmdexe)")
        apikey, device_id = parts[0], parts[1]
        device = devices.get(device_id)
        if device is None:
            raise Rejected(f"unknown device {device_id!r}", status=404)
        if device.apikey != apikey:
            raise Rejected(f"the API key in the topic is not device {device_id!r}'s")
        return device, parts

    def _command_answer(self, session: Session, device: DeviceInfo, body: Any) -> None:
        if not isinstance(body, dict) or not body:
            raise Rejected("a cmdexe payload is a JSON object {command: result}")
        for name, result in body.items():
            if name not in device.commands:
                raise Rejected(f"device {device.device_id!r} takes no command {name!r}")
            ok, info = answer(result)
            command = commands.acknowledge(session, device.device_id, name, ok, info)
            if command is None:
                raise Rejected(f"no open command {name!r} for device {device.device_id!r}")
            attrs = service.command_attrs(name, command.status, info, utcnow())
            service.write(self.broker, session, device, attrs)

    # -- commands down ---------------------------------------------------------------------

    async def _command_loop(self) -> None:
        while True:
            try:
                if self.connected.is_set():
                    outgoing = await self.broker.writer.run(self._command_job, ACTOR, None)
                    for topic, payload in outgoing:
                        self._client.publish(topic, payload, qos=1)
            except Exception:
                log.exception("a round of commands failed; trying again")
            await asyncio.sleep(COMMAND_POLL_SECONDS)

    def _command_job(self, session: Session) -> list[tuple[str, bytes]]:
        """Expire what timed out, mark PENDING commands of MQTT devices SENT; what to publish."""
        return deliver(self.broker, session, protocol="mqtt")


def deliver(
    broker: Broker, session: Session, *, protocol: str | None = None, device_id: str | None = None
) -> list[tuple[str, bytes]]:
    """Expire overdue commands and claim pending ones (entity ``<cmd>_status`` follows);
    returns (topic, payload) to publish for each claimed command."""
    devices = service.registry(session)
    now = utcnow()
    for command in commands.expire(session, now):
        found = devices.get(command.device_id)
        if found is not None:
            attrs = service.command_attrs(command.name, "EXPIRED", command.info, now)
            service.write(broker, session, found, attrs)
    outgoing: list[tuple[str, bytes]] = []
    for command in commands.claim_pending(session, protocol=protocol, device_id=device_id, now=now):
        device = devices.get(command.device_id)
        if device is None:
            continue
        payload = orjson.dumps({command.name: command.value.get("value")})
        outgoing.append((command_topic(device), payload))
        service.write(
            broker, session, device, service.command_attrs(command.name, "SENT", None, now)
        )
    return outgoing


async def bridge_task(app: Any) -> None:
    """``ioc serve``'s background task: the bridge in-process when IOC_MQTT_URL is set (in
    one worker process at a time)."""
    settings: Settings = app.state.settings
    if not settings.mqtt_url:
        return
    from ioc.context.api import runtime

    database: Database = app.state.database
    bridge = Bridge(database, settings, broker=runtime(app).broker)
    await run_exclusive(database, bridge.client_id, bridge.run)
