"""MQTT measurements end to end — publish → stored NGSI-LD entity update — beside a raw baseline.

A scratch database (SQLite file, or a PostgreSQL database made for the run) gets ``--devices``
registered devices. Then, against the real Mosquitto at ``IOC_MQTT_URL``:

* **raw**: a bare paho subscriber in a process of its own (QoS 1, persistent session, paho's
  automatic acks) counts ``--messages`` messages published at QoS 1 by this process;
* **ioc**: ``ioc ingest run --lanes N`` in a process of its own takes the same stream on IoT
  Agent JSON topics (``/{apikey}/{device}/attrs``, ``{"t": …, "h": …, "TimeInstant": …}``):
  maps the short names, checks the value types, writes each measurement to its entity through the
  NGSI-LD broker with an ``entity.*`` event in the outbox, commits, then acknowledges.
  The clock stops when the outbox holds one event per message; any fewer or more is reported.

    python bench/mqtt.py [--db sqlite|postgresql] [--devices 1000] [--messages 50000] [--lanes 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import struct
import subprocess
import sys
import textwrap
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from scratch import scratch_database
from sqlalchemy import func, select

from ioc.core.db import Database
from ioc.core.migrate import upgrade
from ioc.core.models import OutboxEvent
from ioc.core.scope import Scope
from ioc.ingest.bridge import broker_address
from ioc.ingest.schemas import AttributeMap, DeviceCreate
from ioc.ingest.service import add_device

MQTT_URL = os.environ.get("IOC_MQTT_URL", "mqtt://127.0.0.1:1883")
BASE = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)

RAW_SUBSCRIBER = textwrap.dedent(
    """
    import sys, threading
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes
    host, port, cid, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    n = int(sys.argv[5])
    done, count = threading.Event(), [0]
    def on_message(c, u, m):
        count[0] += 1
        if count[0] >= n:
            done.set()
    def on_connect(c, u, f, rc, p):
        c.subscribe(topic, 1)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    c.on_message, c.on_connect = on_message, on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    props.ReceiveMaximum = 65535
    c.connect(host, port, clean_start=True, properties=props)
    c.loop_start()
    print("ready", flush=True)
    done.wait(300)
    print(count[0], flush=True)
    c.disconnect()
    """
)


class Publisher:
    """A lean MQTT 3.1.1 publisher on a plain socket: PUBLISH packets at QoS 1 written in
    large chunks, PUBACKs counted. paho's own publisher manages a few thousand acknowledged
    messages a second (its in-flight bookkeeping is per message), far below the subscriber
    side this bench measures, so both runs use this one."""

    def __init__(self) -> None:
        self.sock = socket.create_connection(broker_address(MQTT_URL))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client_id = ("bench-pub-" + uuid.uuid4().hex[:8]).encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", len(client_id)) + client_id
        self.sock.sendall(b"\x10" + _length(len(body)) + body)
        assert self._read(4)[:1] == b"\x20", "Mosquitto refused the connection"
        self.mid = 0

    def _read(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("Mosquitto closed the connection")
            data += chunk
        return data

    def publish_all(self, topics: list[str], payloads: list[bytes]) -> float:
        """Publish every message at QoS 1 and wait for every PUBACK; returns the start time."""
        start = time.perf_counter()
        chunk: list[bytes] = []
        for topic, payload in zip(topics, payloads, strict=True):
            self.mid = self.mid % 65535 + 1
            name = topic.encode()
            body = struct.pack("!H", len(name)) + name + struct.pack("!H", self.mid) + payload
            chunk.append(b"\x32" + _length(len(body)) + body)
            if len(chunk) == 500:
                self.sock.sendall(b"".join(chunk))
                chunk = []
        self.sock.sendall(b"".join(chunk))
        self._read(4 * len(topics))  # a PUBACK is 4 bytes
        return start

    def close(self) -> None:
        self.sock.sendall(b"\xe0\x00")
        self.sock.close()


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def messages(key: str, devices: int, count: int) -> tuple[list[str], list[bytes]]:
    topics, payloads = [], []
    for i in range(count):
        moment = (BASE + dt.timedelta(milliseconds=i)).isoformat()
        topics.append(f"/{key}/dev-{i % devices}/attrs")
        payloads.append(
            f'{{"t": {20 + i % 100 / 10}, "h": {i % 100}, "TimeInstant": "{moment}"}}'.encode()
        )
    return topics, payloads


def run_raw(key: str, devices: int, count: int) -> float:
    host, port = broker_address(MQTT_URL)
    topics, payloads = messages(key, devices, count)
    sub = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RAW_SUBSCRIBER,
            host,
            str(port),
            "raw-" + key,
            f"/{key}/+/attrs",
            str(count),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sub.stdout is not None
    assert sub.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    client = Publisher()
    start = client.publish_all(topics, payloads)
    got = int(sub.stdout.readline())
    elapsed = time.perf_counter() - start
    sub.wait(10)
    client.close()
    if got != count:
        print(f"  raw: received {got} of {count}")
    return count / elapsed


def stored(database: Database) -> int:
    with database.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.type.startswith("entity."))
            )
            or 0
        )


def run_ioc(db_url: str, key: str, devices: int, count: int, lanes: int) -> tuple[float, int]:
    database = Database(db_url)
    upgrade(database)
    with database.session("bench") as session:
        for n in range(devices):
            add_device(
                session,
                DeviceCreate(
                    device_id=f"dev-{n}",
                    apikey=key,
                    entity_type="WeatherObserved",
                    attributes=[
                        AttributeMap(
                            object_id="t", name="temperature", type="Number", unit_code="CEL"
                        ),
                        AttributeMap(object_id="h", name="relativeHumidity", type="Integer"),
                    ],
                ),
                Scope.everywhere(),
            )
    client_id = "ioc-bench-" + key
    env = dict(
        os.environ,
        IOC_DATABASE_URL=db_url,
        IOC_MQTT_URL=MQTT_URL,
        IOC_INGEST_CLIENT_ID=client_id,
        IOC_LOG_LEVEL="warning",
    )
    bridge = subprocess.Popen(
        [sys.executable, "-m", "ioc", "ingest", "run", "--lanes", str(lanes)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    client = Publisher()
    try:
        # warm up: the bridge is subscribed once a first measurement per device is stored
        topics, payloads = messages(key, devices, devices)
        deadline = time.monotonic() + 60
        while stored(database) < devices:
            if stored(database) == 0:
                client.publish_all(topics[:1], payloads[:1])
            else:
                client.publish_all(topics[1:], payloads[1:])
                topics, payloads = [], []
            if time.monotonic() > deadline:
                raise SystemExit("the bridge did not start")
            time.sleep(0.3)
        before = stored(database)
        topics, payloads = messages(key, devices, count + devices)
        topics, payloads = topics[devices:], payloads[devices:]  # newer than the warm-up
        start = client.publish_all(topics, payloads)
        published = time.perf_counter() - start
        while stored(database) - before < count and time.perf_counter() - start < 300:
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        time.sleep(1.0)
        got = stored(database) - before
        print(f"  (publishing alone took {published:.2f} s)")
        return count / elapsed, got
    finally:
        bridge.kill()
        bridge.wait(10)
        client.close()
        forget = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0
        forget.connect(*broker_address(MQTT_URL), clean_start=True, properties=props)
        forget.disconnect()
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--lanes", type=int, default=4, help="ioc ingest run --lanes")
    args = parser.parse_args()
    key = uuid.uuid4().hex[:10]
    what = f"{args.messages:,} QoS 1 messages over {args.devices:,} devices"
    print(f"MQTT {MQTT_URL}, {what}, {args.db}, {args.lanes} lanes")
    raw = run_raw(key, args.devices, args.messages)
    print(f"raw paho subscriber           {raw:10,.0f} msgs/s")
    with scratch_database(args.db) as url:
        rate, got = run_ioc(url, key, args.devices, args.messages, args.lanes)
    lost = args.messages - got
    print(f"ioc bridge → entity updates   {rate:10,.0f} msgs/s  ({rate / raw:.0%} of raw)")
    print(
        f"stored {got:,} of {args.messages:,}: {'none lost' if lost == 0 else f'{lost:+,} differ'}"
    )


if __name__ == "__main__":
    main()
