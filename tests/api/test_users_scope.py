"""Users and scope: a district user sees nothing outside its district."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from ioc.demo.builder import DEMO_PASSWORD

Problem = Callable[..., dict[str, Any]]
Auth = Callable[..., dict[str, str]]
USERS = "/api/v1/users"
DEMO_USERS = {"admin", "lanhdao", "vanhanh", "sotttt", "dabac", "congdan"}
PASSWORD = "mat-khau-du-dai"


def new_user(username: str, roles: list[str], place: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "username": username,
        "password": PASSWORD,
        "roles": roles,
        "place_code": place,
        **extra,
    }


@pytest.fixture
def people(client: TestClient, admin: dict[str, str]) -> dict[str, str]:
    """Users in Thành phố Hòa Bình (148) and in Đà Bắc (150), made by the admin: name → place."""
    city_commune = client.get("/api/v1/places/148/children").json()[0]["code"]
    da_bac_commune = client.get("/api/v1/places/150/children").json()[1]["code"]
    wanted = {
        "tp.vanhanh": (["operator"], city_commune),
        "tp.lanhdao": (["leader"], "148"),
        "db.vanhanh": (["operator"], da_bac_commune),
        "db.congdan": (["citizen"], "150"),
    }
    for username, (roles, place) in wanted.items():
        response = client.post(USERS, json=new_user(username, roles, place), headers=admin)
        assert response.status_code == 201, response.text
        assert response.json()["place_code"] == place
    return {username: place for username, (_, place) in wanted.items()}


def usernames(client: TestClient, headers: dict[str, str], **params: Any) -> set[str]:
    response = client.get(USERS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return {u["username"] for u in body["items"]}


def test_admin_lists_every_user(
    client: TestClient, admin: dict[str, str], people: dict[str, str]
) -> None:
    assert usernames(client, admin) == DEMO_USERS | set(people)
    assert usernames(client, admin, role="operator") == {"vanhanh", "tp.vanhanh", "db.vanhanh"}
    assert usernames(client, admin, q="da bac") == {"dabac"}  # "Quản trị huyện Đà Bắc"
    page = client.get(USERS, params={"limit": 2, "offset": 2}, headers=admin).json()
    assert (page["total"], len(page["items"])) == (10, 2)
    user = client.get(f"{USERS}/sotttt", headers=admin).json()
    assert (user["roles"], user["agency_codes"], user["place_code"]) == (
        ["agency_staff"],
        ["STTTT"],
        None,
    )
    assert "password" not in str(user) and "hash" not in str(user)


def test_district_admin_sees_only_its_district(
    client: TestClient,
    auth: Auth,
    people: dict[str, str],
    da_bac_codes: set[str],
    problem: Problem,
) -> None:
    dabac = auth("dabac")
    listed = client.get(USERS, headers=dabac).json()["items"]
    assert {u["username"] for u in listed} == {"dabac", "db.vanhanh", "db.congdan"}
    assert {u["place_code"] for u in listed} <= da_bac_codes
    assert usernames(client, dabac, role="operator") == {"db.vanhanh"}
    assert usernames(client, dabac, q="vanhanh") == {"db.vanhanh"}
    assert (
        client.get(f"{USERS}/db.vanhanh", headers=dabac).json()["place_code"]
        == (people["db.vanhanh"])
    )
    # Outside the district a user does not exist for it: 404, not 403, and no change.
    for outside in ("tp.vanhanh", "tp.lanhdao", "admin", "vanhanh", "nobody"):
        problem(client.get(f"{USERS}/{outside}", headers=dabac), 404)
        patch = client.patch(f"{USERS}/{outside}", json={"full_name": "x"}, headers=dabac)
        problem(patch, 404)
    admin = auth("admin")
    assert client.get(f"{USERS}/tp.vanhanh", headers=admin).json()["full_name"] == ""


def test_district_admin_grants_nothing_beyond_its_scope(
    client: TestClient, auth: Auth, people: dict[str, str], problem: Problem
) -> None:
    dabac = auth("dabac")
    city_commune = people["tp.vanhanh"]
    da_bac_commune = client.get("/api/v1/places/150/children").json()[2]["code"]
    refused = [
        new_user("x.city", ["operator"], city_commune),
        new_user("x.city2", ["operator"], "148"),
        new_user("x.province", ["operator"], None),
        new_user("x.admin", ["admin"], da_bac_commune),
        new_user("x.mixed", ["operator", "admin"], "150"),
    ]
    for body in refused:
        problem(client.post(USERS, json=body, headers=dabac), 403)
    for change in ({"place_code": city_commune}, {"roles": ["admin"]}):
        problem(client.patch(f"{USERS}/db.vanhanh", json=change, headers=dabac), 403)
    problem(client.patch(f"{USERS}/dabac", json={"place_code": "148"}, headers=dabac), 403)
    admin = auth("admin")
    assert usernames(client, admin) == DEMO_USERS | set(people)
    unchanged = client.get(f"{USERS}/db.vanhanh", headers=admin).json()
    assert (unchanged["roles"], unchanged["place_code"]) == (["operator"], people["db.vanhanh"])

    created = client.post(
        USERS, json=new_user("x.vanhanh", ["operator"], da_bac_commune), headers=dabac
    )
    assert created.status_code == 201, created.text
    assert usernames(client, dabac) == {"dabac", "db.vanhanh", "db.congdan", "x.vanhanh"}
    me = client.get("/api/v1/me", headers=auth("x.vanhanh", PASSWORD)).json()
    assert me["scope"] == {"place_code": da_bac_commune, "agency_codes": None}
    moved = client.patch(
        f"{USERS}/db.congdan",
        json={"place_code": da_bac_commune, "full_name": "Lò Văn B"},
        headers=dabac,
    )
    assert moved.status_code == 200
    assert (moved.json()["place_code"], moved.json()["full_name"]) == (da_bac_commune, "Lò Văn B")


def test_audit_and_events_seen_by_district_admin_stay_inside(
    client: TestClient,
    auth: Auth,
    admin: dict[str, str],
    people: dict[str, str],
    da_bac_codes: set[str],
) -> None:
    dabac = auth("dabac")
    client.patch(f"{USERS}/tp.lanhdao", json={"full_name": "Lãnh đạo TP"}, headers=admin)
    client.patch(f"{USERS}/db.congdan", json={"full_name": "Lò Thị C"}, headers=admin)

    everything = client.get("/api/v1/audit", params={"limit": 1000}, headers=admin).json()
    outside = [r for r in everything["items"] if r["place_code"] not in da_bac_codes]
    assert {r["place_code"] for r in outside} >= {"148", people["tp.vanhanh"], None}
    seen = client.get("/api/v1/audit", params={"limit": 1000}, headers=dabac).json()
    assert seen["total"] == len(seen["items"]) > 0
    assert {r["place_code"] for r in seen["items"]} <= da_bac_codes
    ids = {r["entity_id"] for r in seen["items"] if r["entity"] == "users"}
    # Every user of the district has its rows (dabac's own from the demo build), no one else.
    assert ids == {str(u["id"]) for u in client.get(USERS, headers=dabac).json()["items"]}
    expected = len(everything["items"]) - len(outside)
    assert seen["total"] == expected

    all_events = client.get("/api/v1/events", params={"limit": 1000}, headers=admin).json()
    assert {"tp.vanhanh", "tp.lanhdao"} <= {e["subject"] for e in all_events}
    events = client.get("/api/v1/events", params={"limit": 1000}, headers=dabac).json()
    assert events and {e["place_code"] for e in events} <= da_bac_codes
    assert {e["subject"] for e in events} == {"dabac", "db.vanhanh", "db.congdan"}
    created = [e for e in events if e["type"] == "user.created" and e["subject"] == "db.vanhanh"]
    assert created[0]["actor"] == "user:admin"
    prefixed = client.get("/api/v1/events", params={"type": "user."}, headers=dabac).json()
    assert {e["type"] for e in prefixed} == {"user.created", "user.updated"}
    later = client.get("/api/v1/events", params={"after": created[0]["seq"]}, headers=dabac).json()
    assert [e["seq"] for e in later] == sorted(e["seq"] for e in later)
    assert all(e["seq"] > created[0]["seq"] for e in later) and later


def test_who_may_manage_users(client: TestClient, auth: Auth, problem: Problem) -> None:
    body = new_user("x.someone", ["citizen"], "150")
    logins = {username: auth(username) for username in ("vanhanh", "congdan", "sotttt", "lanhdao")}
    for headers in logins.values():
        problem(client.get(USERS, headers=headers), 403)
        problem(client.get(f"{USERS}/dabac", headers=headers), 403)
        problem(client.post(USERS, json=body, headers=headers), 403)
        problem(client.patch(f"{USERS}/congdan", json={"full_name": "x"}, headers=headers), 403)
    for username in ("vanhanh", "congdan", "sotttt"):
        problem(client.get("/api/v1/audit", headers=logins[username]), 403)
        problem(client.get("/api/v1/events", headers=logins[username]), 403)
    assert client.get("/api/v1/audit", headers=logins["lanhdao"]).status_code == 200
    assert client.get("/api/v1/events", headers=logins["lanhdao"]).status_code == 200
    for method, path in (
        ("GET", USERS),
        ("GET", f"{USERS}/admin"),
        ("POST", USERS),
        ("PATCH", f"{USERS}/admin"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/events"),
    ):
        problem(client.request(method, path, json=body if method != "GET" else None), 401)


def test_user_creation_checks_its_fields(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    cases = [
        (new_user("Bad Name!", ["operator"], None), "username"),
        (new_user("ok.name", ["pilot"], None), "roles"),
        (new_user("ok.name", ["device"], None), "roles"),  # machine roles are for API keys
        (new_user("ok.name", ["operator"], "99999"), "place_code"),
        (new_user("ok.name", ["agency_staff"], None, agency_codes=["NOPE"]), "agency_codes"),
        (new_user("ok.name", [], None), "roles"),
        ({**new_user("ok.name", ["operator"], None), "password": "short"}, "password"),
    ]
    for body, field in cases:
        problem(client.post(USERS, json=body, headers=admin), 422, field=field)
    taken = client.post(USERS, json=new_user("DaBac", ["operator"], None), headers=admin)
    assert "'dabac' is taken" in problem(taken, 409)["detail"]
    created = client.post(
        USERS,
        json=new_user("Ok.Name", ["agency_staff"], None, agency_codes=["SYT", "STTTT"]),
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["username"] == "ok.name"
    assert created.json()["agency_codes"] == ["STTTT", "SYT"]
    form = {"username": "ok.name", "password": DEMO_PASSWORD}
    assert client.post("/api/v1/auth/token", data=form).status_code == 401
    form["password"] = PASSWORD
    assert client.post("/api/v1/auth/token", data=form).status_code == 200
