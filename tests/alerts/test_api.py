"""``/api/v1/alerts``: filters, scope, roles, problem+json, acknowledge and resolve."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from ioc.alerts import service
from ioc.core.db import Database

from .conftest import commune_in, trig

Auth = Callable[..., dict[str, str]]


def seed(db: Database) -> dict[str, int]:
    """A critical alert in Đà Bắc, a warning in Mai Châu, an agency's feedback alert."""
    with db.session("system:alerts") as session:
        da_bac = commune_in(session, "Đà Bắc")
        mai_chau = commune_in(session, "Mai Châu")
        ids = {
            "da_bac": service.trigger(
                session, trig("camera-fire", "urn:cam:1", "critical", place_code=da_bac.code)
            ).id,
            "mai_chau": service.trigger(
                session, trig("river-level", "urn:g:1", "warning", place_code=mai_chau.code)
            ).id,
            "agency": service.trigger(
                session,
                trig(
                    "feedback-overdue",
                    "feedback:7",
                    "warning",
                    place_code=mai_chau.code,
                    agency_code="STTTT",
                ),
            ).id,
        }
        return ids


def test_list_filter_and_scope(client: TestClient, auth: Auth, demo_db: Database) -> None:
    ids = seed(demo_db)
    page = client.get("/api/v1/alerts", headers=auth("vanhanh")).json()
    assert page["total"] == 3 and {a["id"] for a in page["items"]} == set(ids.values())
    first = page["items"][0]
    assert {"title", "title_en", "severity", "status", "count", "raised_at", "place_code"} <= set(
        first
    )
    critical = client.get("/api/v1/alerts?severity=critical", headers=auth("lanhdao")).json()
    assert [a["id"] for a in critical["items"]] == [ids["da_bac"]]
    with demo_db.session() as session:
        district = commune_in(session, "Mai Châu").parent_code
    by_place = client.get(f"/api/v1/alerts?place={district}", headers=auth("vanhanh")).json()
    assert {a["id"] for a in by_place["items"]} == {ids["mai_chau"], ids["agency"]}
    # A district admin sees their district; agency staff their agency's alerts.
    dabac = client.get("/api/v1/alerts", headers=auth("dabac")).json()
    assert [a["id"] for a in dabac["items"]] == [ids["da_bac"]]
    staff = client.get("/api/v1/alerts", headers=auth("sotttt")).json()
    assert [a["id"] for a in staff["items"]] == [ids["agency"]]
    assert client.get(f"/api/v1/alerts/{ids['mai_chau']}", headers=auth("dabac")).status_code == 404
    counts = client.get("/api/v1/alerts/counts", headers=auth("lanhdao")).json()
    assert counts == {"info": 0, "warning": 2, "critical": 1}


def test_bad_input_is_problem_json(client: TestClient, auth: Auth) -> None:
    headers = auth("vanhanh")
    bad = client.get("/api/v1/alerts?status=closed", headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "status"
    assert client.get("/api/v1/alerts?place=99999", headers=headers).status_code == 404
    assert client.get("/api/v1/alerts/123456", headers=headers).status_code == 404
    assert client.get("/api/v1/alerts").status_code == 401
    assert client.get("/api/v1/alerts", headers=auth("congdan")).status_code == 403


def test_acknowledge_and_resolve(client: TestClient, auth: Auth, demo_db: Database) -> None:
    ids = seed(demo_db)
    url = f"/api/v1/alerts/{ids['da_bac']}"
    leader = client.post(f"{url}/acknowledge", headers=auth("lanhdao"))
    assert leader.status_code == 403  # leaders read
    outside = client.post(f"/api/v1/alerts/{ids['mai_chau']}/acknowledge", headers=auth("dabac"))
    assert outside.status_code == 404  # not in the district admin's scope
    ack = client.post(f"{url}/acknowledge", headers=auth("dabac"), json={"note": "đã cử người"})
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "acknowledged"
    assert ack.json()["acknowledged_by"] == "user:dabac"
    no_note = client.post(f"{url}/resolve", headers=auth("vanhanh"), json={})
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    done = client.post(f"{url}/resolve", headers=auth("vanhanh"), json={"note": "đã dập lửa"})
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["resolved_by"], body["resolved_note"]) == (
        "resolved",
        "user:vanhanh",
        "đã dập lửa",
    )
    again = client.post(f"{url}/resolve", headers=auth("vanhanh"), json={"note": "x"})
    assert again.status_code == 422
    audit = client.get(
        f"/api/v1/audit?entity=alerts&entity_id={ids['da_bac']}", headers=auth("admin")
    ).json()
    assert [row["actor"] for row in audit["items"]] == [
        "user:vanhanh",
        "user:dabac",
        "system:alerts",
    ]


def test_rules_listed(client: TestClient, auth: Auth) -> None:
    rules = client.get("/api/v1/alerts/rules", headers=auth("lanhdao")).json()
    assert {r["code"] for r in rules} >= {"river-level", "air-quality", "streetlight-fault"}
    assert all(r["enabled"] for r in rules)


def test_map_layer(client: TestClient, auth: Auth, demo_db: Database) -> None:
    ids = seed(demo_db)
    layer = client.get("/api/v1/web/alerts", headers=auth("vanhanh")).json()
    assert layer["type"] == "FeatureCollection"
    by_id = {f["properties"]["id"]: f for f in layer["features"]}
    assert set(by_id) == set(ids.values())
    with demo_db.session() as session:
        place = commune_in(session, "Đà Bắc")
        lon_lat, district = [place.lon, place.lat], place.parent_code
    fire = by_id[ids["da_bac"]]
    assert fire["geometry"]["coordinates"] == lon_lat  # no entity: the commune's centre
    assert fire["properties"]["severity"] == "critical" and fire["properties"]["title_en"]
    mine = client.get("/api/v1/web/alerts", headers=auth("dabac")).json()["features"]
    assert [f["properties"]["id"] for f in mine] == [ids["da_bac"]]
    outside = client.get("/api/v1/web/alerts?place=148", headers=auth("dabac"))
    assert outside.status_code == 403
    narrowed = client.get(f"/api/v1/web/alerts?place={district}", headers=auth("lanhdao"))
    assert [f["properties"]["id"] for f in narrowed.json()["features"]] == [ids["da_bac"]]
    done = client.post(
        f"/api/v1/alerts/{ids['da_bac']}/resolve", headers=auth("vanhanh"), json={"note": "ok"}
    )
    assert done.status_code == 200
    left = client.get("/api/v1/web/alerts", headers=auth("vanhanh")).json()["features"]
    assert ids["da_bac"] not in {f["properties"]["id"] for f in left}  # only active ones
