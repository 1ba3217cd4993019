"""Streetlight faults: no power, no heartbeat, on in daylight; each new one published once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from typer.testing import CliRunner

from ioc.cli import app as cli_app
from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.core.db import utcnow
from ioc.devices.faults import Rules, daylight, scan
from tests.devices.conftest import DA_BAC_TOWN, THAI_BINH, Devices, point, prop
from tests.ingest.conftest import wait_for

L = "urn:ngsi-ld:Streetlight:"
VN = dt.timezone(dt.timedelta(hours=7))
PATIENT = Rules(heartbeat=dt.timedelta(days=30), min_power_w=1.0)


def lights(dev: Devices) -> None:
    def light(n: int, state: str, watts: float | None, at: tuple[float, float]) -> None:
        entity = {"id": f"{L}{n}", "type": "Streetlight", "location": point(at),
                  "status": prop("ok"), "powerState": prop(state)}  # fmt: skip
        if watts is not None:
            entity["powerConsumption"] = prop(watts, unitCode="WTT")
        dev.create(entity)

    light(1, "on", 0, THAI_BINH)  # on, no power
    light(2, "on", 60, THAI_BINH)  # on and drawing
    light(3, "off", 0, DA_BAC_TOWN)  # off: no power is right
    light(4, "on", None, DA_BAC_TOWN)  # on, no power reading: cannot say


def run(dev: Devices, rules: Rules, now: dt.datetime) -> dict[str, set[str]]:
    broker = Broker(dev.database, Settings(database_url=dev.database.url))
    with dev.database.session("test") as session:
        result = scan(session, broker, rules, now=now)
        return {
            "found": {f"{f.light_id.removeprefix(L)}:{f.kind}" for f in result.found},
            "cleared": {f"{f.light_id.removeprefix(L)}:{f.kind}" for f in result.cleared},
        }


def test_sun_over_hoa_binh() -> None:
    lat, lon = THAI_BINH
    assert daylight(lat, lon, dt.datetime(2026, 11, 26, 12, 0, tzinfo=VN))
    assert not daylight(lat, lon, dt.datetime(2026, 11, 26, 20, 0, tzinfo=VN))
    assert not daylight(lat, lon, dt.datetime(2026, 11, 26, 6, 20, tzinfo=VN))  # dawn
    assert daylight(lat, lon, dt.datetime(2026, 6, 21, 6, 0, tzinfo=VN))  # early summer sun


def test_fault_cases_found_once_and_cleared(dev: Devices) -> None:
    lights(dev)
    night = dt.datetime(2026, 11, 26, 21, 0, tzinfo=VN)
    assert run(dev, PATIENT, night) == {"found": {"1:no_power"}, "cleared": set()}
    assert run(dev, PATIENT, night) == {"found": set(), "cleared": set()}  # still open: no repeat
    noon = dt.datetime(2026, 11, 26, 12, 0, tzinfo=VN)
    assert run(dev, PATIENT, noon) == {
        "found": {"1:on_in_daylight", "2:on_in_daylight", "4:on_in_daylight"},
        "cleared": set(),
    }
    # Light 1 gets power back and is switched off; its faults clear.
    fixed = dev.ngsi("PATCH", f"/entities/{L}1/attrs", {"powerState": prop("off")})
    assert fixed.status_code == 204, fixed.text
    assert run(dev, PATIENT, noon) == {
        "found": set(),
        "cleared": {"1:no_power", "1:on_in_daylight"},
    }
    silent = Rules(heartbeat=dt.timedelta(minutes=60), min_power_w=1.0)
    later = utcnow() + dt.timedelta(hours=2)
    found = run(dev, silent, later)["found"]
    assert {f for f in found if f.endswith("no_heartbeat")} == {
        f"{n}:no_heartbeat" for n in (1, 2, 3, 4)
    }

    published = dev.events("streetlight.fault")
    kinds = [(t, d["light_id"].removeprefix(L), d["kind"]) for t, d in published]
    assert kinds[0] == ("streetlight.fault", "1", "no_power")
    assert ("streetlight.fault_cleared", "1", "no_power") in kinds
    assert sum(1 for k in kinds if k == ("streetlight.fault", "1", "no_power")) == 1
    assert published[0][1]["place_code"] == "04789"


def test_scan_over_http_and_cli_and_scope(dev: Devices) -> None:
    lights(dev)
    scanned = dev.client.post("/api/v1/streetlights/faults/scan", headers=dev.operator)
    assert scanned.status_code == 200, scanned.text
    body = scanned.json()
    assert body["lights"] == 4
    assert ("urn:ngsi-ld:Streetlight:1", "no_power") in {
        (f["light_id"], f["kind"]) for f in body["found"]
    }
    open_faults = dev.client.get("/api/v1/streetlights/faults", headers=dev.leader).json()
    assert {f["place_code"] for f in open_faults} <= {"04789", "04831"}
    assert all(f["cleared_at"] is None for f in open_faults)
    mine = dev.client.get("/api/v1/streetlights/faults", headers=dev.dabac).json()
    assert all(f["place_code"] == "04831" for f in mine)
    assert "urn:ngsi-ld:Streetlight:1" not in {f["light_id"] for f in mine}
    assert (
        dev.client.post("/api/v1/streetlights/faults/scan", headers=dev.leader).status_code == 403
    )

    result = CliRunner().invoke(
        cli_app, ["devices", "scan"], env={"IOC_DATABASE_URL": dev.database.url}
    )
    assert result.exit_code == 0, result.output
    assert "4 lights scanned" in result.output


def test_the_server_scans_by_itself(app_factory: Any, demo_db: Any, auth: Any) -> None:
    client = app_factory(streetlight_scan_minutes=0.002)  # every ~0.1 s
    dev = Devices(client, demo_db, auth)
    lights(dev)
    wait_for(lambda: dev.events("streetlight.fault"), what="a scan by the server")
    assert ("streetlight.fault", f"{L}1") in {
        (t, d["light_id"]) for t, d in dev.events("streetlight.fault")
    }
