"""API keys: made by admins (or district admins inside their district), shown once, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.models import ApiKey

Problem = Callable[..., dict[str, Any]]
Auth = Callable[..., dict[str, str]]
KEYS = "/api/v1/api-keys"
ME = "/api/v1/me"


def make_key(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_key_authenticates_both_ways_and_its_secret_is_shown_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = make_key(client, admin, name="Trạm quan trắc 01", roles=["device", "operator"])
    secret = created["key"]
    assert secret.startswith(f"ioc_{created['prefix']}_")
    assert created["roles"] == ["device", "operator"]
    assert created["revoked_at"] is None and created["expires_at"] is None

    for headers in ({"X-API-Key": secret}, {"Authorization": f"Bearer {secret}"}):
        me = client.get(ME, headers=headers).json()
        assert me == {
            "kind": "apikey",
            "username": f"{created['id']}:Trạm quan trắc 01",
            "full_name": None,
            "roles": ["device", "operator"],
            "scope": {"place_code": None, "agency_codes": None},
        }

    listing = client.get(KEYS, headers=admin)
    assert [k["id"] for k in listing.json()] == [created["id"]]
    assert "key" not in listing.json()[0]
    digest = hashlib.sha256(secret.encode()).hexdigest()
    audit = client.get("/api/v1/audit", params={"entity": "api_keys"}, headers=admin).text
    for text in (listing.text, audit):
        # ioc_<prefix>_<secret>: the secret itself may hold "_" (URL-safe base64)
        body = secret.split("_", 2)[2]
        assert secret not in text and body not in text and digest not in text
    assert '"key_hash":"***"' in audit


def test_revoked_key_is_refused(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    kept = make_key(client, admin, name="connector", roles=["connector"])
    gone = make_key(client, admin, name="old device", roles=["device"])
    assert client.get(ME, headers={"X-API-Key": gone["key"]}).status_code == 200

    assert client.delete(f"{KEYS}/{gone['id']}", headers=admin).status_code == 204
    problem(client.get(ME, headers={"X-API-Key": gone["key"]}), 401)
    problem(client.get(ME, headers={"Authorization": f"Bearer {gone['key']}"}), 401)
    assert client.get(ME, headers={"X-API-Key": kept["key"]}).status_code == 200
    listed = {k["id"]: k for k in client.get(KEYS, headers=admin).json()}
    assert listed[gone["id"]]["revoked_at"] is not None
    assert listed[kept["id"]]["revoked_at"] is None
    # Revoking twice changes nothing; an unknown id is 404.
    assert client.delete(f"{KEYS}/{gone['id']}", headers=admin).status_code == 204
    again = {k["id"]: k for k in client.get(KEYS, headers=admin).json()}
    assert again[gone["id"]]["revoked_at"] == listed[gone["id"]]["revoked_at"]
    problem(client.delete(f"{KEYS}/99999", headers=admin), 404)
    problem(client.delete(f"{KEYS}/not-a-number", headers=admin), 422, field="path.key_id")


def test_expiry(
    client: TestClient, admin: dict[str, str], demo_db: Database, problem: Problem
) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    body = {"name": "late", "roles": ["device"], "expires_at": past}
    problem(client.post(KEYS, json=body, headers=admin), 422, field="expires_at")
    naive = {**body, "expires_at": "2099-01-01T00:00:00"}  # no zone: ambiguous, refused
    problem(client.post(KEYS, json=naive, headers=admin), 422, field="expires_at")
    assert client.get(KEYS, headers=admin).json() == []

    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    key = make_key(client, admin, name="month", roles=["device"], expires_at=soon.isoformat())
    assert dt.datetime.fromisoformat(key["expires_at"]) == soon
    assert client.get(ME, headers={"X-API-Key": key["key"]}).status_code == 200
    # A month later (moved by hand: the clock cannot be), the key no longer opens anything.
    with demo_db.session() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == key["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    refused = problem(client.get(ME, headers={"X-API-Key": key["key"]}), 401)
    assert "expired" in refused["detail"]


def test_bad_keys_are_refused(client: TestClient, admin: dict[str, str], problem: Problem) -> None:
    real = make_key(client, admin, name="real", roles=["device"])["key"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for secret in ("nonsense", "ioc_deadbeef_xyz", forged, real[:-1]):
        problem(client.get(ME, headers={"X-API-Key": secret}), 401)
    problem(
        client.post(KEYS, json={"name": " ", "roles": ["device"]}, headers=admin), 422, field="name"
    )
    problem(
        client.post(KEYS, json={"name": "k", "roles": ["root"]}, headers=admin), 422, field="roles"
    )
    problem(client.post(KEYS, json={"name": "k", "roles": []}, headers=admin), 422, field="roles")
    bad_place = {"name": "k", "roles": ["device"], "place_code": "99999"}
    problem(client.post(KEYS, json=bad_place, headers=admin), 422, field="place_code")


def test_district_key_has_the_district_scope(
    client: TestClient,
    auth: Auth,
    admin: dict[str, str],
    da_bac_codes: set[str],
    problem: Problem,
) -> None:
    client.post(
        "/api/v1/users",
        json={
            "username": "tp.user",
            "password": "mat-khau-du-dai",
            "roles": ["citizen"],
            "place_code": "148",
        },
        headers=admin,
    )
    key = make_key(client, admin, name="Đà Bắc board", roles=["leader"], place_code="150")
    headers = {"X-API-Key": key["key"]}
    assert client.get(ME, headers=headers).json()["scope"] == {
        "place_code": "150",
        "agency_codes": None,
    }
    rows = client.get("/api/v1/audit", params={"limit": 1000}, headers=headers).json()["items"]
    assert rows and {r["place_code"] for r in rows} <= da_bac_codes
    everything = client.get("/api/v1/audit", params={"limit": 1000}, headers=admin).json()
    assert "148" in {r["place_code"] for r in everything["items"]}
    problem(client.get("/api/v1/users", headers=headers), 403)  # leader: no user management


def test_district_admin_keys_stay_inside_its_district(
    client: TestClient, auth: Auth, admin: dict[str, str], problem: Problem
) -> None:
    dabac = auth("dabac")
    province_key = make_key(client, admin, name="province", roles=["device"])
    own = make_key(client, dabac, name="rain gauge", roles=["device"], place_code="150")
    assert own["place_code"] == "150"
    for body in (
        {"name": "x", "roles": ["device"]},
        {"name": "x", "roles": ["device"], "place_code": "148"},
        {"name": "x", "roles": ["admin"], "place_code": "150"},
    ):
        problem(client.post(KEYS, json=body, headers=dabac), 403)
    assert [k["id"] for k in client.get(KEYS, headers=dabac).json()] == [own["id"]]
    problem(client.delete(f"{KEYS}/{province_key['id']}", headers=dabac), 404)
    assert client.get(ME, headers={"X-API-Key": province_key["key"]}).status_code == 200
    assert client.delete(f"{KEYS}/{own['id']}", headers=dabac).status_code == 204
    problem(client.get(ME, headers={"X-API-Key": own["key"]}), 401)
    for username in ("vanhanh", "congdan"):
        headers = auth(username)
        problem(client.get(KEYS, headers=headers), 403)
        problem(client.post(KEYS, json={"name": "x", "roles": ["device"]}, headers=headers), 403)
    problem(client.get(KEYS), 401)


def test_key_writes_are_audited_under_the_key(client: TestClient, admin: dict[str, str]) -> None:
    key = make_key(client, admin, name="sync", roles=["admin"])
    headers = {"X-API-Key": key["key"]}
    created = client.post(
        "/api/v1/agencies", json={"code": "SYNC-1", "name": "Đồng bộ"}, headers=headers
    )
    assert created.status_code == 201, created.text
    rows = client.get(
        "/api/v1/audit", params={"entity": "agencies", "entity_id": "SYNC-1"}, headers=admin
    ).json()["items"]
    assert [(r["actor"], r["action"]) for r in rows] == [(f"apikey:{key['id']}:sync", "insert")]


def test_a_long_key_name_still_names_the_actor(client: TestClient, admin: dict[str, str]) -> None:
    key = make_key(client, admin, name="n" * 120, roles=["admin"])
    created = client.post(
        "/api/v1/agencies", json={"code": "LONG-1", "name": "x"}, headers={"X-API-Key": key["key"]}
    )
    assert created.status_code == 201, created.text  # PostgreSQL refused the 129-character actor
    [row] = client.get("/api/v1/audit", params={"entity_id": "LONG-1"}, headers=admin).json()[
        "items"
    ]
    assert row["actor"].startswith(f"apikey:{key['id']}:nnn") and len(row["actor"]) == 120
    events = client.get("/api/v1/events", params={"type": "agency.created"}, headers=admin).json()
    assert events[-1]["actor"] == row["actor"]
