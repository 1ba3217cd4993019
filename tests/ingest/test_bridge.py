"""Measurements over MQTT (IoT Agent JSON topics) become NGSI-LD entity updates."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.core.db import Database
from ioc.ingest import service
from tests.ingest.conftest import (
    DEFAULT,
    Publisher,
    Running,
    dead_letters,
    entity,
    entity_events,
    register,
    value,
    wait_for,
)


def test_measurement_updates_the_entity_with_mapped_names(
    database: Database, bridge: Running, publisher: Publisher, key: str
) -> None:
    register(database, "ws-1", key)
    publisher.send(
        f"/{key}/ws-1/attrs",
        {
            "t": 21.5,
            "h": 60,
            "s": "ok",
            "p": "20.81, 105.33",
            "TimeInstant": "2026-11-26T08:00:00Z",
        },
    )
    temperature = wait_for(lambda: value(database, "ws-1", "temperature"), what="temperature")
    assert temperature["value"] == 21.5
    assert temperature["unitCode"] == "CEL"
    assert temperature["observedAt"] == "2026-11-26T08:00:00.000Z"
    stored = entity(database, "ws-1")
    assert stored is not None
    assert stored.type == DEFAULT + "WeatherObserved"
    assert stored.attrs[DEFAULT + "relativeHumidity"][0]["value"] == 60
    assert value(database, "ws-1", "status")["value"] == "ok"
    location = value(database, "ws-1", "location")
    assert location["type"] == "GeoProperty"
    assert location["value"] == {"type": "Point", "coordinates": [105.33, 20.81]}
    assert "t" not in {name.rsplit("/", 1)[-1] for name in stored.attrs}

    # a later measurement (no leaf slash in the topic, as newer agents send) updates it
    publisher.send(f"{key}/ws-1/attrs", {"t": 23.0, "TimeInstant": "2026-11-26T08:05:00Z"})
    wait_for(lambda: value(database, "ws-1", "temperature")["value"] == 23.0, what="update")
    kinds = [e.type for e in entity_events(database)]
    assert kinds == ["entity.created", "entity.updated"]
    assert entity_events(database)[1].actor == "system:ingest"


def test_a_measurement_observed_no_later_than_the_stored_one_changes_nothing(
    database: Database, bridge: Running, publisher: Publisher, key: str
) -> None:
    register(database, "ws-2", key)
    publisher.send(f"/{key}/ws-2/attrs", {"t": 20, "TimeInstant": "2026-11-26T08:00:00Z"})
    wait_for(lambda: value(database, "ws-2", "temperature"), what="first")
    publisher.send(f"/{key}/ws-2/attrs", {"t": 20, "TimeInstant": "2026-11-26T08:00:00Z"})  # again
    publisher.send(f"/{key}/ws-2/attrs", {"t": 5, "TimeInstant": "2026-11-26T07:00:00Z"})  # late
    publisher.send(f"/{key}/ws-2/attrs", {"h": 70, "TimeInstant": "2026-11-26T07:00:00Z"})
    wait_for(lambda: value(database, "ws-2", "relativeHumidity"), what="humidity")
    assert value(database, "ws-2", "temperature")["value"] == 20
    assert [e.type for e in entity_events(database)] == ["entity.created", "entity.updated"]


def test_single_attribute_topic(
    database: Database, bridge: Running, publisher: Publisher, key: str
) -> None:
    register(database, "ws-3", key)
    publisher.send(f"/{key}/ws-3/attrs/t", b"19.25")
    wait_for(lambda: value(database, "ws-3", "temperature"), what="temperature")
    assert value(database, "ws-3", "temperature")["value"] == 19.25
    publisher.send(f"/{key}/ws-3/attrs/s", b"maintenance")  # raw text, not JSON
    wait_for(lambda: value(database, "ws-3", "status"), what="status")
    assert value(database, "ws-3", "status")["value"] == "maintenance"
    publisher.send(f"/{key}/ws-3/attrs/battery", b"87")  # not in the mapping: passed through
    wait_for(lambda: value(database, "ws-3", "battery"), what="battery")
    assert value(database, "ws-3", "battery")["value"] == 87
    assert dead_letters(database) == []


def test_bad_messages_go_to_dead_letters_and_the_bridge_goes_on(
    database: Database, bridge: Running, publisher: Publisher, key: str
) -> None:
    register(database, "ws-4", key)
    bad = [
        (f"/{key}/nobody/attrs", {"t": 1}, "unknown device 'nobody'"),
        (f"/wrong{key}/ws-4/attrs", {"t": 1}, "API key"),
        (f"/{key}/ws-4/attrs", b"{not json", "not JSON"),
        (f"/{key}/ws-4/attrs", {"t": "hot"}, "t: expected Number, got str"),
        (f"/{key}/ws-4/attrs", {"h": 60.5}, "h: expected Integer"),
        (f"/{key}/ws-4/attrs", {"s": 3}, "s: expected Text"),
        (f"/{key}/ws-4/attrs", [1, 2], "JSON object"),
        (f"/{key}/ws-4/attrs", {"t": None}, "null"),
        (f"/{key}/ws-4/attrs", {"p": "north"}, "geo:point"),
        (f"/{key}/ws-4/attrs", {"t": 1, "TimeInstant": "yesterday"}, "TimeInstant"),
        (f"/{key}/ws-4/attrs", {"t": 1, "TimeInstant": "2999-01-01T00:00:00Z"}, "in the future"),
        (f"/{key}/ws-4/attrs/t", b"warm", "t: expected Number"),
        (f"/{key}/ws-4/cmdexe", {"reboot": "OK"}, "takes no command 'reboot'"),
    ]
    for topic, payload, _ in bad:
        publisher.send(topic, payload)
    publisher.send(f"/{key}/ws-4/attrs", {"t": 30.5})
    wait_for(lambda: value(database, "ws-4", "temperature"), what="the good message")
    letters = dead_letters(database)
    assert len(letters) == len(bad)
    for letter, (topic, _, reason) in zip(letters, bad, strict=True):
        assert letter.topic == topic
        assert reason in letter.reason, (reason, letter.reason)
    assert letters[2].payload == "{not json"
    assert letters[1].device_id == "ws-4"
    assert bridge.bridge.dead == len(bad)
    stored = entity(database, "ws-4")
    assert stored is not None and len(stored.attrs) == 1  # nothing of the bad ones was written


def test_a_failing_batch_is_stored_message_by_message(
    database: Database,
    bridge: Running,
    publisher: Publisher,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(database, "ws-5", key)
    register(database, "ws-6", key)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the batched write broke")

    real_write = service.write

    def picky(broker: Any, session: Any, device: Any, attrs: Any) -> Any:
        if device.device_id == "ws-6":
            raise RuntimeError("ws-6 cannot be written")
        return real_write(broker, session, device, attrs)

    monkeypatch.setattr(service, "write_many", broken)
    monkeypatch.setattr(service, "write", picky)
    publisher.send(f"/{key}/ws-6/attrs", {"t": 1.5})
    publisher.send(f"/{key}/ws-5/attrs", {"t": 2.5})
    wait_for(lambda: value(database, "ws-5", "temperature"), what="ws-5 stored alone")
    wait_for(lambda: dead_letters(database), what="ws-6 as a dead letter")
    (letter,) = dead_letters(database)
    assert letter.device_id == "ws-6"
    assert letter.reason == "internal error: ws-6 cannot be written"
    assert entity(database, "ws-6") is None
