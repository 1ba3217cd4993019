"""kill -9 of the bridge under load, then a restart: every QoS 1 message is stored once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from ioc.core.db import Database
from ioc.core.models import OutboxEvent
from ioc.ingest.bridge import broker_address
from tests.ingest.conftest import MQTT_URL, forget_session, register, value, wait_for

N = 4000
DEVICES = 20
BASE = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def stored(database: Database) -> int:
    """Entity writes made for the counted devices (one event each)."""
    with database.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.subject.like("urn:ngsi-ld:WeatherObserved:meter-%"))
            )
            or 0
        )


class BridgeProcess:
    def __init__(self, db_url: str, client_id: str, log: Path) -> None:
        env = dict(os.environ)
        env.update(
            IOC_DATABASE_URL=db_url,
            IOC_MQTT_URL=MQTT_URL,
            IOC_INGEST_CLIENT_ID=client_id,
            IOC_LOG_LEVEL="warning",
        )
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ioc", "ingest", "run"],
            env=env,
            stdout=self.log,
            stderr=self.log,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()


@pytest.fixture
def client_id() -> Iterator[str]:
    name = "ioc-kill-test-" + uuid.uuid4().hex[:8]
    yield name
    forget_session(name)


def test_kill_9_and_restart_lose_nothing(
    database: Database, db_url: str, client_id: str, key: str, tmp_path: Path
) -> None:
    for n in range(DEVICES):
        register(database, f"meter-{n}", key)
    register(database, "probe", key)
    log = tmp_path / "bridge.log"
    bridge = BridgeProcess(db_url, client_id, log)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.max_inflight_messages_set(2000)
    publisher.connect(*broker_address(MQTT_URL))
    publisher.loop_start()
    try:
        # the bridge is subscribed once a probe measurement comes through
        def probe_stored() -> bool:
            publisher.publish(f"/{key}/probe/attrs", b'{"t": 1}', qos=1)
            time.sleep(0.2)
            return value(database, "probe", "temperature") is not None

        wait_for(probe_stored, timeout=30, what=f"the bridge to start ({log.read_text()})")

        sent: list[mqtt.MQTTMessageInfo] = []

        def publish() -> None:
            for i in range(N):
                moment = (BASE + dt.timedelta(milliseconds=i)).isoformat()
                payload = f'{{"h": {i}, "TimeInstant": "{moment}"}}'.encode()
                sent.append(publisher.publish(f"/{key}/meter-{i % DEVICES}/attrs", payload, qos=1))
                if i % 20 == 0:
                    time.sleep(0.01)  # ~2,000 messages a second: the kill lands mid-stream

        producer = threading.Thread(target=publish)
        producer.start()
        wait_for(lambda: stored(database) >= N // 5, timeout=30, what="a fifth stored")
        bridge.kill()
        killed_at = stored(database)
        producer.join(30)
        for info in sent:
            info.wait_for_publish(10)
        assert killed_at < N, "the kill came too late to test anything"
        time.sleep(0.5)  # more than 1,000 messages wait in Mosquitto for the absent bridge
        bridge = BridgeProcess(db_url, client_id, log)
        wait_for(lambda: stored(database) >= N, timeout=60, what=f"all {N} stored")
        time.sleep(1.0)  # anything delivered twice would show up now
        assert stored(database) == N, f"killed after {killed_at}"
        for n in range(DEVICES):
            last = max(i for i in range(N) if i % DEVICES == n)
            assert value(database, f"meter-{n}", "relativeHumidity")["value"] == last
    finally:
        bridge.kill()
        publisher.disconnect()
        publisher.loop_stop()
