"""The screen's own JSON (``/api/v1/web``) and pages: scope, shapes, the citizen door, the feed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import orjson
from starlette.testclient import TestClient

from ioc.core.bus import InProcessBus
from ioc.core.db import Database
from ioc.core.events import Event
from ioc.core.scope import Scope
from ioc.devices.entities import Places
from ioc.web.live import ScopeFilter, frame
from tests.web.conftest import PNG

Auth = Callable[..., dict[str, str]]
DA_BAC, HOA_BINH_CITY = "150", "148"
DA_BAC_TOWN = (20.874563, 105.251663)  # 04831 Thị trấn Đà Bắc


def test_pages_and_vendored_files_are_served(client: TestClient) -> None:
    for path in ("/ui/login", "/ui/ops", "/ui/brief", "/ui/citizen", "/ui/queue"):
        page = client.get(path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"], path
        assert "https://" not in page.text, f"{path} must not load anything from the internet"
    for path in (
        "/ui/static/vendor/maplibre-gl/maplibre-gl.js",
        "/ui/static/vendor/maplibre-gl/LICENSE.txt",
        "/ui/static/vendor/echarts/echarts.min.js",
        "/ui/static/vendor/echarts/LICENSE",
        "/ui/static/js/ops.js",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/ops"


def test_api_docs_work_on_a_closed_network(client: TestClient) -> None:
    """/docs and /redoc load Swagger UI and Redoc from ioc itself, no CDN and no web fonts."""
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"], path
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
            r"url: '([^']+)'", page.text
        )
        assert assets and "http" not in page.text.replace("http-equiv", ""), (path, assets)
        for asset in assets:
            assert asset.startswith("/"), (path, asset)
            assert client.get(asset).status_code == 200, (path, asset)
    assert "openapi" in client.get("/openapi.json").json()


def test_units_start_at_the_callers_scope(client: TestClient, auth: Auth) -> None:
    whole = client.get("/api/v1/web/units", headers=auth("vanhanh")).json()
    assert whole["place"]["level"] == "province"
    districts = [f for f in whole["features"] if not f["properties"].get("self")]
    assert len(districts) == 10 and all(f["geometry"]["type"] == "Polygon" for f in districts)
    assert {c["level"] for c in whole["trail"]} == {"province"}

    dabac = auth("dabac")
    mine = client.get("/api/v1/web/units", headers=dabac).json()
    assert mine["place"]["code"] == DA_BAC
    assert [c["code"] for c in mine["trail"]] == [DA_BAC]  # no way up past the scope
    commune = next(f for f in mine["features"] if not f["properties"].get("self"))
    down = client.get(f"/api/v1/web/units?parent={commune['id']}", headers=dabac).json()
    assert [c["code"] for c in down["trail"]] == [DA_BAC, commune["id"]]
    outside = client.get(f"/api/v1/web/units?parent={HOA_BINH_CITY}", headers=dabac)
    assert outside.status_code == 403
    assert client.get("/api/v1/web/units?parent=99999", headers=dabac).status_code == 404
    assert client.get("/api/v1/web/units").status_code == 401


def test_measures_by_place_match_the_feedback_api(client: TestClient, auth: Auth) -> None:
    operator = auth("vanhanh")
    everywhere = client.get(
        "/api/v1/feedback/measures", params={"by": "district"}, headers=operator
    ).json()
    group = next(g for g in everywhere["groups"] if g["key"] == DA_BAC)
    narrowed = client.get(
        "/api/v1/web/feedback/measures", params={"place": DA_BAC}, headers=operator
    ).json()
    assert narrowed["total"]["received"] == group["received"] > 0
    assert narrowed["total"]["overdue_open"] == group["overdue_open"]
    own = client.get("/api/v1/web/feedback/measures", headers=auth("dabac")).json()
    assert own["total"]["received"] == group["received"]
    refused = client.get(
        "/api/v1/web/feedback/measures", params={"place": HOA_BINH_CITY}, headers=auth("dabac")
    )
    assert refused.status_code == 403
    citizen = client.get("/api/v1/web/feedback/measures", headers=auth("congdan"))
    assert citizen.status_code == 403


def test_feedback_points_are_open_reports_in_scope(client: TestClient, auth: Auth) -> None:
    points = client.get("/api/v1/web/feedback/points", headers=auth("dabac")).json()
    assert points["features"], "the demo has open reports in Đà Bắc"
    statuses = {f["properties"]["status"] for f in points["features"]}
    assert statuses <= {"received", "assigned", "in_progress"}
    codes = {f["properties"]["place_code"] for f in points["features"]}
    operator = client.get(
        "/api/v1/web/feedback/points", params={"place": DA_BAC}, headers=auth("vanhanh")
    ).json()
    assert {f["properties"]["place_code"] for f in operator["features"]} == codes


def test_citizen_report_is_received_and_tracked(client: TestClient, auth: Auth) -> None:
    lat, lon = DA_BAC_TOWN
    body = {"service_code": "road", "lat": lat, "lon": lon, "description": "Ổ gà ở cầu"}
    sent = client.post("/api/v1/web/citizen/feedback", json=body)
    assert sent.status_code == 201, sent.text
    receipt = sent.json()
    assert receipt["place_code"] == "04831" and receipt["status"] == "received"
    tracked = client.get(f"/api/v1/feedback/track/{receipt['token']}").json()
    assert tracked["id"] == receipt["id"] and tracked["description"] == "Ổ gà ở cầu"
    queued = client.get(f"/api/v1/feedback/{receipt['id']}", headers=auth("dabac")).json()
    assert queued["channel"] == "web"

    bad = client.post("/api/v1/web/citizen/feedback", json={**body, "service_code": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "service_code"
    far = client.post("/api/v1/web/citizen/feedback", json={**body, "lat": 200})
    assert far.status_code == 422


def test_citizen_reports_are_rate_limited(client: TestClient) -> None:
    lat, lon = DA_BAC_TOWN
    body = {"service_code": "road", "lat": lat, "lon": lon, "description": "đèn hỏng"}
    codes = [client.post("/api/v1/web/citizen/feedback", json=body).status_code for _ in range(11)]
    assert codes[:10] == [201] * 10 and codes[10] == 429


def test_feed_keeps_to_the_scope(demo_db: Database) -> None:
    with demo_db.session() as session:
        places = Places(session)
        scope = Scope.build(session, DA_BAC, [])
    allow = ScopeFilter(scope, places)
    assert allow.allows(Event("feedback.created", {"id": 1}, place_code="04831"))
    assert not allow.allows(Event("feedback.created", {"id": 2}, place_code="04789"))
    assert not allow.allows(Event("feedback.created", {"id": 3}))  # province-wide: not theirs
    assert ScopeFilter(Scope.everywhere(), places).allows(Event("alert.raised", {}))
    agency = ScopeFilter(Scope(agency_codes=frozenset({"STTTT"})), places)
    assert agency.allows(Event("feedback.assigned", {"agency_code": "STTTT"}, place_code="04831"))
    assert not agency.allows(Event("feedback.assigned", {"agency_code": "SYT"}))

    raw = frame(Event("feedback.created", {"id": 7}, place_code="04831"))
    head, _, data = raw.decode().rstrip("\n").rpartition("data: ")
    assert "event: feedback.created" in head and orjson.loads(data)["data"] == {"id": 7}


def test_feed_refuses_citizens_and_unknown_topics(client: TestClient, auth: Auth) -> None:
    assert client.get("/api/v1/web/events", headers=auth("congdan")).status_code == 403
    bad = client.get("/api/v1/web/events?topics=entity", headers=auth("vanhanh"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "topics"


def test_stream_delivers_events_in_scope() -> None:
    from ioc.web.live import stream

    class Request:
        async def is_disconnected(self) -> bool:
            return False

    class Everyone(ScopeFilter):
        def __init__(self) -> None:
            pass

        def allows(self, event: Event) -> bool:
            return event.place_code == "04831"

    async def run() -> list[bytes]:
        bus = InProcessBus()
        await bus.start()
        chunks = stream(Request(), bus, ["feedback.>"], Everyone())  # type: ignore[arg-type]
        first = await anext(chunks)
        await bus.publish(Event("feedback.created", {"id": 1}, place_code="04789"))
        await bus.publish(Event("feedback.created", {"id": 2}, place_code="04831"))
        second = await anext(chunks)
        await chunks.aclose()  # type: ignore[attr-defined]  # a generator
        await bus.close()
        return [first, second]

    first, second = asyncio.run(run())
    assert first.startswith(b"retry:")
    assert b'"id":2' in second and b'"id":1' not in second


def test_citizen_dossier_lookup_shows_no_person(client: TestClient, auth: Auth) -> None:
    listed = client.get("/api/v1/services/dossiers?limit=1", headers=auth("vanhanh")).json()
    code = listed["items"][0]["code"]
    found = client.get(f"/api/v1/web/citizen/dossiers/{code}")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["code"] == code and body["status"] == listed["items"][0]["status"]
    assert set(body) == {
        "code", "procedure_code", "procedure_name", "procedure_name_en", "status",
        "received_at", "due_at", "completed_at", "on_time",
    }  # fmt: skip
    assert client.get("/api/v1/web/citizen/dossiers/NO-SUCH").status_code == 404


def test_citizen_photos(app_factory: Callable[..., TestClient], tmp_path: Path) -> None:
    client = app_factory(web_media_dir=str(tmp_path / "media"))
    sent = client.post("/api/v1/web/citizen/photos", files={"file": ("a.png", PNG, "image/png")})
    assert sent.status_code == 201, sent.text
    url = sent.json()["media_url"]
    assert url.startswith("http://testserver/ui/media/") and url.endswith(".png")
    again = client.post("/api/v1/web/citizen/photos", files={"file": ("b.png", PNG, "image/png")})
    assert again.json()["media_url"] == url  # stored once, under its hash
    assert len(list((tmp_path / "media").iterdir())) == 1
    served = client.get(url.removeprefix("http://testserver"))
    assert served.content == PNG and served.headers["content-type"] == "image/png"

    lat, lon = DA_BAC_TOWN
    body = {"service_code": "road", "lat": lat, "lon": lon, "media_url": url}
    report = client.post("/api/v1/web/citizen/feedback", json=body).json()
    assert client.get(f"/api/v1/feedback/track/{report['token']}").status_code == 200

    fake = client.post(
        "/api/v1/web/citizen/photos", files={"file": ("x.png", b"<svg/>", "image/png")}
    )
    assert fake.status_code == 422 and fake.json()["errors"][0]["field"] == "file"
    big = PNG + b"\0" * (5 * 1024 * 1024)
    too_big = client.post("/api/v1/web/citizen/photos", files={"file": ("x.png", big, "image/png")})
    assert too_big.status_code == 422
    assert client.post("/api/v1/web/citizen/photos", data={"x": "1"}).status_code == 422
    assert client.get("/ui/media/../../etc/passwd").status_code == 404
    assert client.get("/ui/media/" + "0" * 64 + ".png").status_code == 404
