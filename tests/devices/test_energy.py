"""Energy per period from the temporal store: power readings integrated, meters differenced."""

from __future__ import annotations

from typing import Any

from tests.devices.conftest import DA_BAC_TOWN, THAI_BINH, Devices, point, prop, rel

L = "urn:ngsi-ld:Streetlight:"
GROUP = "urn:ngsi-ld:StreetlightGroup:g1"


def reading(dev: Devices, n: int, name: str, value: float, at: str) -> None:
    body = {name: prop(value, observedAt=at)}
    response = dev.ngsi("PATCH", f"/entities/{L}{n}/attrs", body)
    assert response.status_code == 204, response.text


def setup(dev: Devices) -> None:
    def light(n: int, at: tuple[float, float], **extra: Any) -> None:
        dev.create({"id": f"{L}{n}", "type": "Streetlight", "location": point(at),
                    "status": prop("ok"), **extra})  # fmt: skip

    light(1, THAI_BINH, refStreetlightGroup=rel(GROUP),
          powerConsumption=prop(100, observedAt="2026-11-20T18:00:00+07:00"))  # fmt: skip
    reading(dev, 1, "powerConsumption", 0, "2026-11-21T06:00:00+07:00")
    reading(dev, 1, "powerConsumption", 50, "2026-11-21T18:00:00+07:00")
    reading(dev, 1, "powerConsumption", 0, "2026-11-22T06:00:00+07:00")
    # A metered light: its meter rises 1.2 kWh over a night, then is reset (counts nothing).
    light(2, DA_BAC_TOWN, energyConsumed=prop(10.0, observedAt="2026-11-20T18:00:00+07:00"))
    reading(dev, 2, "energyConsumed", 11.2, "2026-11-21T06:00:00+07:00")
    reading(dev, 2, "energyConsumed", 0.0, "2026-11-21T12:00:00+07:00")
    reading(dev, 2, "energyConsumed", 0.3, "2026-11-21T18:00:00+07:00")


def get(dev: Devices, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = dev.client.get("/api/v1/streetlights/energy", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_energy_per_day_and_hour(dev: Devices) -> None:
    setup(dev)
    window = {"from": "2026-11-20T00:00:00+07:00", "to": "2026-11-23T00:00:00+07:00"}
    days = get(dev, dev.operator, **window)
    assert days["lights"] == 2 and days["metered_lights"] == 1
    # light 1: 100 W × 6 h on the 20th, 100 W × 6 h + 50 W × 6 h on the 21st, 50 W × 6 h on
    # the 22nd; light 2: 1.2 kWh over 18:00-06:00 (half each day), then 0.3 after the reset.
    assert days["by_light"] == {f"{L}1": 1.8, f"{L}2": 1.5}
    assert days["periods"] == [
        {"period": "2026-11-20", "kwh": 1.2},
        {"period": "2026-11-21", "kwh": 1.8},
        {"period": "2026-11-22", "kwh": 0.3},
    ]
    assert days["total_kwh"] == 3.3

    evening = {"from": "2026-11-20T17:00:00+07:00", "to": "2026-11-20T20:00:00+07:00"}
    hours = get(dev, dev.operator, period="hour", light=f"{L}1", **evening)
    assert hours["periods"] == [
        {"period": "2026-11-20T18:00", "kwh": 0.1},
        {"period": "2026-11-20T19:00", "kwh": 0.1},
    ]
    group = get(dev, dev.leader, group=GROUP, period="month", **window)
    assert group["periods"] == [{"period": "2026-11-01", "kwh": 1.8}]
    mine = get(dev, dev.dabac, **window)  # district admin of Đà Bắc: light 2 only
    assert mine["by_light"] == {f"{L}2": 1.5}
    commune = get(dev, dev.operator, commune="04789", **window)
    assert list(commune["by_light"]) == [f"{L}1"]
    bad = dev.client.get(
        "/api/v1/streetlights/energy",
        params={"from": "2026-11-23T00:00:00+07:00", "to": "2026-11-20T00:00:00+07:00"},
        headers=dev.operator,
    )
    assert bad.status_code == 422
