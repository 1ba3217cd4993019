"""The screen in a real browser (Debian's Chromium, headless): log in, KPI tiles equal to the API,
a district click filters everything, a live event arrives without reload, a dim command changes
the lamp, a citizen's pinned report reaches the operators' queue. No console errors anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ioc.demo.builder import DEMO_PASSWORD
from tests.web.conftest import PNG, Live

DA_BAC = "150"  # Huyện Đà Bắc, legacy tree
TIMEOUT = 15_000


class Page:
    """A browser tab that records console errors and failed requests."""

    def __init__(self, browser: Any, live: Live, **context: Any) -> None:
        self.live = live
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"{e}\n{e.stack}"))

    def login(self, username: str, then: str) -> None:
        self.page.goto(f"{self.live.url}/ui/login?next={then}")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.live.url}{then}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, live: Live) -> Iterator[Page]:
    page = Page(browser, live, viewport={"width": 1600, "height": 1000})
    yield page
    page.close()
    assert page.errors == [], f"console errors: {page.errors}"


def api(live: Live, path: str, user: str = "vanhanh", **params: Any) -> Any:
    with httpx.Client(base_url=live.url) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD}
        ).json()["access_token"]
        response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        return response.json()


def tile_text(tab: Page, key: str) -> str:
    return str(tab.page.inner_text(f".tile[data-kpi={key}] .value"))


def vn(n: int) -> str:
    """A whole number as vi-VN writes it (1.234)."""
    return f"{n:,}".replace(",", ".")


def clickable_district(units: dict[str, Any]) -> tuple[str, float, float]:
    """A district and a point of it where its box is the smallest box under the pointer."""
    boxes = []
    for f in units["features"]:
        if f["properties"].get("self"):
            continue
        ring = f["geometry"]["coordinates"][0]
        xs, ys = [c[0] for c in ring], [c[1] for c in ring]
        boxes.append((f["id"], min(xs), min(ys), max(xs), max(ys)))

    def area(b: tuple[str, float, float, float, float]) -> float:
        return (b[3] - b[1]) * (b[4] - b[2])

    for code, w, s, e, n in sorted(boxes, key=area):
        for fx, fy in ((0.5, 0.5), (0.2, 0.2), (0.8, 0.8), (0.2, 0.8), (0.8, 0.2)):
            x, y = w + (e - w) * fx, s + (n - s) * fy
            under = [b for b in boxes if b[1] <= x <= b[3] and b[2] <= y <= b[4]]
            if min(under, key=area)[0] == code:
                return code, x, y
    raise AssertionError("no district can be clicked on its own")


def test_operations_screen(tab: Page, live: Live) -> None:
    tab.login("vanhanh", "/ui/ops")
    page = tab.page
    province = page.wait_for_selector("body[data-ready]").get_attribute("data-ready")
    start = page.evaluate("() => import('/ui/static/js/common.js').then(m => m.localDay(29))")
    measures = api(live, "/api/v1/feedback/measures", by="district", **{"from": start})
    assert tile_text(tab, "received") == vn(measures["total"]["received"])
    assert tile_text(tab, "overdue") == vn(measures["total"]["overdue_open"])
    assert page.get_attribute(".tile[data-kpi=settled]", "data-light") in ("green", "amber", "red")
    assert page.locator("#map canvas").count() == 1
    assert page.evaluate("() => window.iocMap.getSource('units')._data.features.length") > 10

    # Click a district: the breadcrumbs, the tiles and the ranking all narrow to it.
    page.click(f"#rank tr[data-place='{DA_BAC}']")
    page.wait_for_selector(f"body[data-ready='{DA_BAC}']")
    assert page.inner_text("#crumbs").split("›")[-1].strip() == "Huyện Đà Bắc"
    group = next(g for g in measures["groups"] if g["key"] == DA_BAC)
    assert tile_text(tab, "received") == vn(group["received"])
    assert page.get_attribute("#rank-title", "data-t") == "rank.district"
    communes = page.locator("#rank tbody tr").count()
    assert 0 < communes <= 30
    page.click(f"#crumbs a[data-place='{province}']")
    page.wait_for_selector(f"body[data-ready='{province}']")
    assert tile_text(tab, "received") == vn(measures["total"]["received"])

    # The same on the map: with the point layers off, a click inside a district narrows to it.
    page.uncheck("#layers input[value=feedback]")
    page.uncheck("#layers input[value=lights]")
    assert (
        page.evaluate("() => window.iocMap.getLayoutProperty('feedback-point', 'visibility')")
        == "none"
    )
    code, lon, lat = clickable_district(api(live, "/api/v1/web/units"))
    point = page.evaluate(f"() => window.iocMap.project([{lon}, {lat}])")
    box = page.locator("#map canvas").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector(f"body[data-ready='{code}']")
    page.click(f"#crumbs a[data-place='{province}']")
    page.wait_for_selector(f"body[data-ready='{province}']")

    # A report sent meanwhile (Open311's reception, as the citizen page uses) shows up live.
    page.wait_for_selector("#live.up")
    with httpx.Client(base_url=live.url) as client:
        sent = client.post(
            "/api/v1/web/citizen/feedback",
            json={"service_code": "road", "lat": 20.874563, "lon": 105.251663, "description": "x"},
        ).json()
    page.wait_for_selector(f"#feed li[data-type='feedback.created'][data-subject='{sent['id']}']")


def test_dim_command_changes_the_lamp(tab: Page, live: Live) -> None:
    lights = api(live, "/api/v1/web/lights")["features"]
    lamp = lights[0]["properties"]["id"]
    tab.login("vanhanh", f"/ui/light/{lamp}")
    page = tab.page
    page.wait_for_selector("#power:not(:text('–'))")
    # The 24-hour chart holds what the NGSI-LD temporal API holds for the lamp.
    page.wait_for_selector("body[data-ready] #history[data-levels] canvas")
    temporal = api(live, f"/ngsi-ld/v1/temporal/entities/{lamp}", attrs="illuminanceLevel",
                   lastN="500", options="temporalValues")  # fmt: skip
    levels = len(temporal["illuminanceLevel"]["values"])
    assert page.get_attribute("#history", "data-levels") == str(levels) and levels > 0
    page.fill("#dim-value", "35")
    page.click("#dim")
    page.wait_for_selector("#answer:text('dim 35')")
    state = api(live, f"/api/v1/web/lights/{lamp}")
    assert state["dim_status"] == "OK" and state["dim_info"] == "dim 35"
    # The lamp's reading after the command is a new point on the chart.
    page.wait_for_function(
        f"() => Number(document.getElementById('history').dataset.levels) > {levels}"
    )


def test_citizen_report_reaches_the_queue(browser: Any, live: Live) -> None:
    citizen = Page(browser, live, viewport={"width": 390, "height": 844})
    try:
        page = citizen.page
        page.goto(f"{live.url}/ui/citizen")
        page.wait_for_selector("body[data-ready]")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.select_option("#service", "road")
        page.fill("#description", "Ổ gà lớn trước cổng chợ")
        box = page.locator("#pin-map canvas").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.set_input_files(
            "#photo", files=[{"name": "o-ga.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.click("#report button[type=submit]")
        receipt = page.wait_for_selector("#receipt[data-id]")
        request_id = receipt.get_attribute("data-id")
        token = receipt.get_attribute("data-token")
        media_url = receipt.get_attribute("data-media")
        assert media_url is not None and httpx.get(media_url).content == PNG
        page.fill("#track-token", str(token))
        page.click("#track button[type=submit]")
        page.wait_for_selector("#tracked[data-status]")
        assert citizen.errors == [], citizen.errors
    finally:
        citizen.close()

    operator = Page(browser, live, viewport={"width": 1400, "height": 900})
    try:
        operator.login("vanhanh", "/ui/queue")
        operator.page.fill("#q", "Ổ gà lớn trước cổng chợ")
        operator.page.click("#filters button[type=submit]")
        row = operator.page.wait_for_selector(f"#queue tr[data-id='{request_id}']")
        assert "Ổ gà lớn" in row.inner_text()
        queued = api(live, f"/api/v1/feedback/{request_id}")
        assert queued["media_url"] == media_url and queued["channel"] == "web"

        # The operator gives it to another agency with a reason, then leaves an internal note.
        page = operator.page
        page.click(f"#queue tr[data-id='{request_id}'] button.open")
        details = f"#queue tr.details[data-for='{request_id}'][data-ready]"
        page.wait_for_selector(details)
        agency = page.eval_on_selector(
            f"{details} select[name=agency]", "(s) => s.options[3].value"
        )
        page.select_option(f"{details} select[name=agency]", agency)
        page.fill(f"{details} input[name=why]", "Thuộc thẩm quyền đơn vị khác")
        page.click(f"{details} form.assign button")
        page.wait_for_selector(f"#queue tr[data-id='{request_id}'][data-agency='{agency}']")
        page.wait_for_selector(f"{details} li[data-kind=assign]")
        page.fill(f"{details} input[name=text]", "Đã gọi lại cho người dân")
        page.click(f"{details} form.note button")
        page.wait_for_selector(f"{details} li[data-kind=note].internal")
        timeline = api(live, f"/api/v1/feedback/{request_id}")["timeline"]
        assert api(live, f"/api/v1/feedback/{request_id}")["agency_code"] == agency
        note = next(n for n in timeline if n["kind"] == "note")
        assert note["text"] == "Đã gọi lại cho người dân" and note["public"] is False
        assert operator.errors == [], operator.errors
    finally:
        operator.close()


def test_mobile_brief(browser: Any, live: Live) -> None:
    phone = Page(browser, live, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone.login("lanhdao", "/ui/brief")
        phone.page.wait_for_selector("body[data-ready]")
        width = phone.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the brief is {width} px wide on a 390 px phone"
        assert phone.page.locator(".card").count() >= 3
        overdue = api(live, "/api/v1/feedback", user="lanhdao", overdue="true", limit=1)["total"]
        assert phone.page.inner_text(".card[data-kpi=overdue] strong") == vn(overdue)
        assert phone.page.locator("#overdue li").count() == min(overdue, 10)
        assert phone.errors == [], phone.errors
    finally:
        phone.close()


def test_indicator_and_dossier_pages(tab: Page, live: Live) -> None:
    tab.login("vanhanh", "/ui/indicators?code=PAKN-XULY")
    page = tab.page
    page.wait_for_selector("body[data-ready='PAKN-XULY']")
    assert page.locator("#rank tbody tr").count() == 10  # the ten districts, ranked
    assert page.locator("#trend canvas").count() == 1

    page.goto(f"{live.url}/ui/dossiers")
    page.wait_for_selector("body[data-ready]")
    agencies = page.locator("#agencies tbody tr")
    assert agencies.count() > 0
    assert page.locator("#late tbody tr").count() > 0  # the weakest agency's late dossiers
    late = api(live, "/api/v1/services/dossiers", on_time="false", limit=1)["items"][0]
    page.goto(f"{live.url}/ui/citizen")  # a citizen looks a dossier up by its code, no login
    page.fill("#dossier-code", late["code"])
    page.click("#dossier button[type=submit]")
    status = page.wait_for_selector("#dossier-status[data-status]")
    assert status.get_attribute("data-status") == late["status"]


def test_district_user_stays_in_the_district_in_english(tab: Page, live: Live) -> None:
    tab.login("dabac", "/ui/ops")
    page = tab.page
    page.wait_for_selector(f"body[data-ready='{DA_BAC}']")
    assert page.locator("#crumbs a").all_inner_texts() == ["Huyện Đà Bắc"]
    assert page.get_attribute("#rank-title", "data-t") == "rank.district"
    assert page.inner_text("#rank-title") == "Theo xã"  # its communes, in Vietnamese first
    page.click("header.top .lang")
    page.wait_for_selector(f"body[data-ready='{DA_BAC}']")
    assert page.inner_text("#rank-title") == "By commune"
    assert page.inner_text(".tile[data-kpi=received] .label") == "Feedback received (30 days)"


def test_api_docs_render_from_the_vendored_files(tab: Page, live: Live) -> None:
    """Swagger UI and Redoc run from ioc's own copies: the page draws the API, no script error."""
    page = tab.page
    page.goto(f"{live.url}/docs")
    assert (
        "Intelligent Operations Centre"
        in page.wait_for_selector(".swagger-ui .info .title").inner_text()
    )
    page.wait_for_selector(".swagger-ui .opblock")
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live.url) else None)
    page.goto(f"{live.url}/redoc")
    assert "Intelligent Operations Centre" in page.wait_for_selector("h1").inner_text()
    # only what the page makes itself (inline images, Redoc's worker blob), nothing from afar
    assert [u for u in outside if not u.startswith(("data:", "blob:"))] == [], outside
