"""The engine inside a running server: events on the bus become alerts, readings included."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.events import emit

from .conftest import commune_in

Auth = Callable[..., dict[str, str]]


def wait_for(client: TestClient, headers: dict[str, str], query: str, n: int = 1) -> list[Any]:
    """The alerts matching ``query`` once there are ``n`` (the engine works after the relay)."""
    deadline = time.monotonic() + 15
    while True:
        items = client.get(f"/api/v1/alerts?{query}", headers=headers).json()["items"]
        if len(items) >= n or time.monotonic() > deadline:
            return list(items)
        time.sleep(0.1)


def test_fault_events_raise_and_clear(client: TestClient, auth: Auth, demo_db: Database) -> None:
    headers = auth("vanhanh")
    with demo_db.session("system:streetlight-scan") as session:
        place = commune_in(session, "Đà Bắc").code
        data = {"light_id": "urn:ngsi-ld:Streetlight:t-1", "kind": "no_power", "place_code": place}
        for _ in range(2):
            emit(session, "streetlight.fault", data, subject=data["light_id"], place_code=place)
    (alert,) = wait_for(client, headers, "rule=streetlight-fault")
    assert (alert["place_code"], alert["severity"], alert["status"]) == (place, "warning", "open")
    deadline = time.monotonic() + 10
    while alert["count"] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        alert = client.get(f"/api/v1/alerts/{alert['id']}", headers=headers).json()
    assert alert["count"] == 2  # the same light twice: one alert, bumped
    # No entity for this light: the alert stands at its commune's centre.
    assert alert["lat"] is not None and alert["lon"] is not None
    with demo_db.session("system:streetlight-scan") as session:
        emit(session, "streetlight.fault_cleared", data, subject="urn:ngsi-ld:Streetlight:t-1")
    (done,) = wait_for(client, headers, "rule=streetlight-fault&status=resolved")
    assert done["resolved_by"] == "system:alerts" and done["resolved_note"].startswith("tự động")


def test_a_gauge_reading_over_alarm_three(
    client: TestClient, auth: Auth, demo_db: Database
) -> None:
    headers = auth("vanhanh")
    with demo_db.session() as session:
        commune = commune_in(session, "Đà Bắc")
        lat, lon, code = commune.lat, commune.lon, commune.code
    gauge = "urn:ngsi-ld:WaterObserved:test-wl-01"
    entity = {
        "id": gauge,
        "type": "WaterObserved",
        "name": {"type": "Property", "value": "Trạm thử"},
        "height": {"type": "Property", "value": 6.4, "unitCode": "MTR"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
    }
    made = client.post("/ngsi-ld/v1/entities", json=entity, headers=headers)
    assert made.status_code == 201, made.text
    (alert,) = wait_for(client, headers, "rule=river-level")
    assert alert["severity"] == "critical" and alert["source"] == gauge
    assert "Trạm thử" in alert["title"] and "III" in alert["title"]
    assert (alert["lat"], alert["lon"], alert["place_code"]) == (lat, lon, code)
    # The district admin sees it; the river falls back: the rule resolves it.
    assert wait_for(client, auth("dabac"), "rule=river-level")[0]["id"] == alert["id"]
    url = f"/ngsi-ld/v1/entities/{gauge}/attrs/height"
    assert client.patch(url, json={"value": 4.1}, headers=headers).status_code == 204
    (done,) = wait_for(client, headers, "rule=river-level&status=resolved")
    assert done["id"] == alert["id"] and "4.10" in done["resolved_note"]
