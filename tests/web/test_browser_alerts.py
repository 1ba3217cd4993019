"""Alerts on the screen in a real browser: a river gauge crossing alarm III while the operator
watches shows up in the live feed and on the map without reload; the operator acknowledges it
from its popup."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ioc.demo.builder import DEMO_PASSWORD
from tests.web.conftest import Live
from tests.web.test_browser import Page, api


@pytest.fixture
def tab(browser: Any, live: Live) -> Iterator[Page]:
    page = Page(browser, live, viewport={"width": 1600, "height": 1000})
    yield page
    page.close()
    assert page.errors == [], f"console errors: {page.errors}"


def test_alert_arrives_live_and_is_acknowledged(tab: Page, live: Live) -> None:
    tab.login("vanhanh", "/ui/ops")
    page = tab.page
    page.wait_for_selector("body[data-ready]")
    page.wait_for_selector("body[data-layers]")
    page.wait_for_selector("#live.up")
    # The simulated air stations may have raised an AQI warning already (a rush hour at
    # start-up): the river's alert is told from them by its source.
    before = {a["id"] for a in api(live, "/api/v1/alerts", status="open")["items"]}
    shown = page.get_attribute("body", "data-alerts") or ""
    assert {int(i) for i in shown.split(",") if i} == before
    for layer in ("feedback", "lights", "cameras", "sensors"):
        page.uncheck(f"#layers input[value={layer}]")
    sensors = api(live, "/api/v1/web/sensors")["features"]
    gauge = next(f for f in sensors if f["properties"]["kind"] == "water")
    lon, lat = gauge["geometry"]["coordinates"]

    # The river rises past alarm III (the simulated gauges' 6.2 m) as an NGSI-LD write.
    with httpx.Client(base_url=live.url) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "vanhanh", "password": DEMO_PASSWORD}
        ).json()["access_token"]
        written = client.patch(
            f"/ngsi-ld/v1/entities/{gauge['id']}/attrs/height",
            json={"value": 6.45},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert written.status_code == 204, written.text
    item = page.wait_for_selector("#feed li[data-type='alert.raised']:has-text('báo động III')")
    assert "sev-critical" in (item.get_attribute("class") or "")
    (alert,) = [
        a for a in api(live, "/api/v1/alerts", status="open")["items"] if a["id"] not in before
    ]
    assert alert["source"] == gauge["id"] and alert["severity"] == "critical"
    page.wait_for_function(  # the layer, without reload
        "id => document.body.dataset.alerts.split(',').includes(id)", arg=str(alert["id"])
    )

    # Its point on the map opens a popup with the acknowledge button.
    point = page.evaluate(f"() => window.iocMap.project([{lon}, {lat}])")
    box = page.locator("#map canvas").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.wait_for_selector(f"[data-popup=alert][data-alert='{alert['id']}']")
    assert "Khẩn cấp" in popup.inner_text()
    page.click("[data-popup=alert] button.ack")
    page.wait_for_selector("[data-popup=alert][data-status=acknowledged]")
    done = api(live, f"/api/v1/alerts/{alert['id']}")
    assert (done["status"], done["acknowledged_by"]) == ("acknowledged", "user:vanhanh")
    page.wait_for_selector("#feed li[data-type='alert.acknowledged']")

    # The leaders' brief counts it among the open critical alerts, and lists it.
    page.goto(f"{live.url}/ui/brief")
    page.wait_for_selector("body[data-ready]")
    assert page.inner_text(".card[data-kpi=alerts] strong") == "1"
    assert page.get_attribute(f"#alerts li[data-alert='{alert['id']}']", "data-alert")
