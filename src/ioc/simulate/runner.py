"""Running the fleet: set it up in the database, then each tick send its readings — over MQTT to
the IoT Agent topics, or in-process through the ingest service's own write path — and report
the cameras' events through the cameras service.

In-process, the simulator is also the lights' end of the command channel: it claims the open
commands of its devices (``ioc.ingest.bridge.deliver``, as the bridge does), applies them and
acknowledges each (``ioc.ingest.commands.acknowledge``), so operations sent from the IOC
complete with OK even with no MQTT broker.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context.service import Broker
from ioc.core.db import Database, utcnow
from ioc.core.problems import Problem
from ioc.core.scope import Scope
from ioc.devices import cameras
from ioc.ingest import commands, service
from ioc.ingest.bridge import deliver
from ioc.ingest.models import Command, Device
from ioc.simulate.fleet import APIKEY, FULL, Fleet, Sizes, build
from ioc.simulate.install import Installed, install
from ioc.simulate.mqtt_link import MqttLink
from ioc.simulate.streams import Streams, Tick

ACTOR = "system:device-simulator"
EVERYWHERE = Scope.everywhere()


@dataclass(frozen=True, slots=True)
class Report:
    """What one tick did."""

    readings: int
    events: int
    faults: list[tuple[str, str]]
    refused: int
    answered: int


class Simulator:
    """A fleet, its streams, and where they go (``mqtt`` set: Mosquitto; else in-process)."""

    def __init__(
        self, database: Database, broker: Broker, fleet: Fleet, streams: Streams, mqtt: str = ""
    ) -> None:
        self.database = database
        self.broker = broker
        self.fleet = fleet
        self.streams = streams
        self.lock = threading.Lock()
        self.link: MqttLink | None = None
        if mqtt:
            self.link = MqttLink(mqtt, fleet.apikey, streams, self.lock)

    @classmethod
    def prepare(
        cls,
        database: Database,
        broker: Broker,
        *,
        sizes: Sizes = FULL,
        seed: int = 1,
        fault_rate: float = 0.002,
        mqtt: str = "",
        apikey: str = APIKEY,
        prefix: str = "hb",
    ) -> tuple[Simulator, Installed]:
        """Build the fleet for the seed and install what the database lacks of it."""
        with database.session(ACTOR) as session:
            fleet = build(session, sizes, seed, apikey, prefix)
            installed = install(session, broker, fleet)
        return cls(database, broker, fleet, Streams(fleet, seed, fault_rate), mqtt), installed

    def start(self) -> None:
        if self.link is not None:
            self.link.start()

    def close(self) -> None:
        if self.link is not None:
            self.link.close()

    def tick(self, now: dt.datetime | None = None) -> Report:
        """One round of readings and camera events at ``now`` (default: the clock)."""
        now = now or utcnow()
        with self.lock:
            tick = self.streams.tick(now)
        refused = 0
        if self.link is not None:
            self.link.publish(tick.messages)
        else:
            with self.database.session(ACTOR) as session:
                refused = self._store(session, tick)
        events = self._events(tick)
        answered = 0 if self.link is not None else self.answer_commands(now)
        return Report(len(tick.messages), events, tick.faults, refused, answered)

    def _store(self, session: Session, tick: Tick) -> int:
        """The bridge's path: registry → ``parse_values`` → ``write_many``; refusals kept."""
        devices = service.registry(session)
        measured: list[tuple[str, service.Measurement]] = []
        for spec, values in tick.messages:
            device = devices.get(spec.device_id)
            if device is None:
                continue  # removed from the registry meanwhile: nobody listens any more
            try:
                measured.append((spec.device_id, service.parse_values(device, values, tick.at)))
            except service.Rejected as exc:
                self._dead(session, spec.device_id, values, str(exc))
        refused = service.write_many(self.broker, session, measured)
        for device_id, reason in refused:
            self._dead(session, device_id, {}, reason)
        return len(refused)

    def _dead(self, session: Session, device_id: str, values: object, reason: str) -> None:
        topic = f"/{self.fleet.apikey}/{device_id}/attrs"
        service.dead_letter(session, topic, orjson.dumps(values), reason, device_id)

    def _events(self, tick: Tick) -> int:
        """The cameras' analytics, through the cameras service (as ``POST …/events``)."""
        stored = 0
        if not tick.events:
            return 0
        with self.database.session(ACTOR) as session:
            for spec, items in tick.events:
                try:
                    rows, _ = cameras.ingest(
                        session, self.broker, spec.entity_id, items, EVERYWHERE
                    )
                except Problem:
                    continue  # the camera entity was deleted: its events have nowhere to go
                stored += len(rows)
        return stored

    def answer_commands(self, now: dt.datetime | None = None) -> int:
        """In-process: claim, apply and acknowledge the open commands of the fleet's lights."""
        now = now or utcnow()
        with self.database.session(ACTOR) as session:
            waiting = list(
                session.scalars(
                    select(Command.device_id)
                    .join(Device, Device.device_id == Command.device_id)
                    .where(Command.status == "PENDING", Device.apikey == self.fleet.apikey)
                    .distinct()
                )
            )
            answered = 0
            for device_id in waiting:
                for _topic, payload in deliver(self.broker, session, device_id=device_id):
                    answered += self._answer(session, device_id, orjson.loads(payload), now)
        return answered

    def _answer(
        self, session: Session, device_id: str, body: dict[str, object], now: dt.datetime
    ) -> int:
        device = service.registry(session).get(device_id)
        if device is None:
            return 0  # forgotten since the command was claimed
        for name, value in body.items():
            with self.lock:
                ok, info = self.streams.command(device_id, name, value, now)
                reading = self.streams.reading(device_id, now) if ok else None
            command = commands.acknowledge(session, device_id, name, ok, info)
            if command is not None:
                attrs = service.command_attrs(name, command.status, info, utcnow())
                service.write(self.broker, session, device, attrs)
            if reading is not None:
                measured = service.parse_values(device, reading, now)
                service.write(self.broker, session, device, measured.attrs)
        return len(body)
