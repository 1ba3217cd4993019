"""Lanes: on PostgreSQL the bridge writes through several connections at once, each device's
messages through one lane and in order, acknowledged in the order they came."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson

from ioc.core.db import Database
from tests.ingest.conftest import (
    Publisher,
    Running,
    entity_events,
    forget_session,
    register,
    value,
    wait_for,
)

BASE = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def test_lanes_keep_each_devices_order_and_store_every_message(
    database: Database, publisher: Publisher, key: str, backend: str
) -> None:
    devices, count = 6, 600
    for n in range(devices):
        register(database, f"lane-{n}", key)
    client_id = "ioc-lanes-test-" + uuid.uuid4().hex[:8]
    running = Running(database, client_id, lanes=3)
    try:
        assert running.bridge.lanes == (3 if backend == "postgresql" else 1)
        for i in range(count):  # each device's measurements newer and newer
            moment = (BASE + dt.timedelta(seconds=i)).isoformat()
            payload = {"h": i, "TimeInstant": moment}
            topic = f"/{key}/lane-{i % devices}/attrs"
            publisher.client.publish(topic, orjson.dumps(payload), qos=1)
        wait_for(lambda: running.bridge.stored >= count, timeout=30, what="every message")
        # any message of a device stored after a later one would have changed nothing
        assert len(entity_events(database)) == count
        for n in range(devices):
            last = max(i for i in range(count) if i % devices == n)
            assert value(database, f"lane-{n}", "relativeHumidity")["value"] == last
        wait_for(lambda: not running.bridge._order, what="every message acknowledged")
    finally:
        running.stop()
        forget_session(client_id)
