"""The audit log: every write through the API leaves rows; a failed request leaves none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.models import Agency, ApiKey, AuditEntry, OutboxEvent, User
from ioc.demo.builder import DEMO_PASSWORD

Problem = Callable[..., dict[str, Any]]
Auth = Callable[..., dict[str, str]]
AUDIT = "/api/v1/audit"


def rows(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Audit rows matching ``params``, oldest first."""
    response = client.get(AUDIT, params={"limit": 1000, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[::-1]


def counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, Agency, ApiKey, AuditEntry, OutboxEvent)
        }


def test_user_writes_are_audited_without_secrets(client: TestClient, admin: dict[str, str]) -> None:
    body = {
        "username": "kiemtra",
        "password": "mat-khau-du-dai",
        "full_name": "Kiểm Tra",
        "roles": ["agency_staff"],
        "place_code": "150",
        "agency_codes": ["SYT"],
    }
    created = client.post("/api/v1/users", json=body, headers=admin).json()
    uid = str(created["id"])

    [insert] = rows(client, admin, entity="users", entity_id=uid)
    assert (insert["actor"], insert["action"], insert["place_code"]) == (
        "user:admin",
        "insert",
        "150",
    )
    assert insert["before"] is None
    after = insert["after"]
    assert (after["id"], after["username"], after["full_name"]) == (
        created["id"],
        "kiemtra",
        "Kiểm Tra",
    )
    assert after["roles"] == ["agency_staff"] and after["password_hash"] == "***"
    [link] = rows(client, admin, entity="user_agencies", entity_id=f"{uid}:SYT")
    assert (link["action"], link["actor"]) == ("insert", "user:admin")
    assert link["after"] == {"user_id": created["id"], "agency_code": "SYT"}

    patch = {"full_name": "Kiểm Tra Lại", "password": "mot-mat-khau-khac", "agency_codes": []}
    assert client.patch("/api/v1/users/kiemtra", json=patch, headers=admin).status_code == 200
    insert_again, update = rows(client, admin, entity="users", entity_id=uid)
    assert insert_again == insert
    assert (update["actor"], update["action"]) == ("user:admin", "update")
    assert update["before"]["full_name"] == "Kiểm Tra"
    assert update["after"]["full_name"] == "Kiểm Tra Lại"
    assert update["before"]["password_hash"] == update["after"]["password_hash"] == "***"
    assert (update["before"]["token_version"], update["after"]["token_version"]) == (0, 1)
    assert "roles" not in update["after"]  # unchanged columns are not repeated
    _, unlink = rows(client, admin, entity="user_agencies", entity_id=f"{uid}:SYT")
    assert (unlink["action"], unlink["after"]) == ("delete", None)

    everything = client.get(AUDIT, params={"limit": 1000}, headers=admin).text
    assert "$argon2" not in everything and "mat-khau" not in everything


def test_login_is_audited_with_the_callers_request_id(
    client: TestClient, admin: dict[str, str]
) -> None:
    form = {"username": "vanhanh", "password": DEMO_PASSWORD}
    response = client.post("/api/v1/auth/token", data=form, headers={"X-Request-ID": "login-42"})
    assert response.headers["x-request-id"] == "login-42"
    vanhanh = client.get("/api/v1/users/vanhanh", headers=admin).json()
    made_by_demo, login = rows(client, admin, entity="users", entity_id=str(vanhanh["id"]))
    assert (made_by_demo["actor"], made_by_demo["action"]) == ("demo", "insert")
    assert (login["actor"], login["action"], login["request_id"]) == (
        "user:vanhanh",
        "update",
        "login-42",
    )
    assert login["before"] == {"last_login_at": None}
    assert login["after"]["last_login_at"] == vanhanh["last_login_at"].replace("Z", "+00:00")
    # A failed login changes nothing and is not a row.
    client.post("/api/v1/auth/token", data={**form, "password": "wrong-password"})
    assert len(rows(client, admin, entity="users", entity_id=str(vanhanh["id"]))) == 2


def test_agency_and_key_writes_are_audited(client: TestClient, admin: dict[str, str]) -> None:
    client.post(
        "/api/v1/agencies",
        json={"code": "TT-CDS", "name": "Trung tâm Chuyển đổi số", "place_code": "17"},
        headers=admin,
    )
    client.patch("/api/v1/agencies/TT-CDS", json={"phone": "0218 000 111"}, headers=admin)
    made, changed = rows(client, admin, entity="agencies", entity_id="TT-CDS")
    assert (made["action"], made["actor"], made["place_code"]) == ("insert", "user:admin", "17")
    assert made["after"]["name"] == "Trung tâm Chuyển đổi số"
    assert (changed["action"], changed["actor"]) == ("update", "user:admin")
    assert (changed["before"], changed["after"]) == ({"phone": None}, {"phone": "0218 000 111"})

    key = client.post(
        "/api/v1/api-keys",
        json={"name": "cam-01", "roles": ["device"], "place_code": "150"},
        headers=admin,
    ).json()
    assert client.delete(f"/api/v1/api-keys/{key['id']}", headers=admin).status_code == 204
    created, revoked = rows(client, admin, entity="api_keys", entity_id=str(key["id"]))
    assert (created["action"], created["actor"], created["place_code"]) == (
        "insert",
        "user:admin",
        "150",
    )
    assert created["after"]["key_hash"] == "***" and created["after"]["name"] == "cam-01"
    assert revoked["action"] == "update"
    assert revoked["before"] == {"revoked_at": None}
    assert revoked["after"]["revoked_at"] is not None
    by_admin = rows(client, admin, actor="user:admin")
    assert {(r["entity"], r["action"]) for r in by_admin} >= {
        ("agencies", "insert"),
        ("agencies", "update"),
        ("api_keys", "insert"),
        ("api_keys", "update"),
    }


def test_failed_requests_write_nothing(
    client: TestClient, auth: Auth, admin: dict[str, str], demo_db: Database, problem: Problem
) -> None:
    dabac = auth("dabac")
    before = counts(demo_db)
    user = {"username": "mot.nguoi", "password": "mat-khau-du-dai", "roles": ["operator"]}
    key = {"name": "k", "roles": ["device"], "expires_at": "2000-01-01T00:00:00Z"}
    failures: list[tuple[str, str, dict[str, Any], dict[str, str], int]] = [
        ("POST", "/api/v1/users", {**user, "place_code": "99999"}, admin, 422),
        ("POST", "/api/v1/users", {**user, "username": "dabac"}, admin, 409),
        ("POST", "/api/v1/users", {**user, "place_code": "148"}, dabac, 403),
        ("POST", "/api/v1/users", {**user, "roles": "operator"}, admin, 422),
        ("PATCH", "/api/v1/users/congdan", {"full_name": "X", "place_code": "99999"}, admin, 422),
        ("PATCH", "/api/v1/users/congdan", {"full_name": "X", "roles": ["pilot"]}, admin, 422),
        ("POST", "/api/v1/agencies", {"code": "SYT", "name": "Trùng"}, admin, 409),
        (
            "POST",
            "/api/v1/agencies",
            {"code": "NEW", "name": "M", "place_code": "99999"},
            admin,
            422,
        ),
        ("PATCH", "/api/v1/agencies/SYT", {"name": "X", "parent_code": "NOPE"}, admin, 422),
        ("POST", "/api/v1/api-keys", key, admin, 422),
    ]
    for method, path, body, headers, status in failures:
        problem(client.request(method, path, json=body, headers=headers), status)
    wrong = {"username": "admin", "password": "nope-nope"}
    problem(client.post("/api/v1/auth/token", data=wrong), 401)
    assert counts(demo_db) == before
    assert client.get("/api/v1/users/congdan", headers=admin).json()["full_name"] == "Nguyễn Văn An"
    assert client.get("/api/v1/agencies/SYT").json()["name"] == "Sở Y tế"


def test_audit_filters_and_paging(client: TestClient, admin: dict[str, str]) -> None:
    for code in ("A-1", "A-2", "A-3"):
        client.post("/api/v1/agencies", json={"code": code, "name": code}, headers=admin)
    newest = client.get(AUDIT, params={"actor": "user:admin", "limit": 2}, headers=admin).json()
    assert [r["entity_id"] for r in newest["items"]] == ["A-3", "A-2"]
    older = client.get(
        AUDIT, params={"actor": "user:admin", "limit": 2, "offset": 2}, headers=admin
    ).json()
    assert newest["total"] == older["total"]
    ids = [r["id"] for r in newest["items"] + older["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert rows(client, admin, actor="user:nobody") == []
