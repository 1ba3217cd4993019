"""Errors leave as RFC 9457 problem+json, never as a stack trace; each response has a request id."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.testclient import TestClient

from ioc.core.http import install_problem_handlers
from ioc.demo.builder import DEMO_PASSWORD

Problem = Callable[..., dict[str, Any]]
JSON = {"Content-Type": "application/json"}


def test_malformed_json_is_400(client: TestClient, admin: dict[str, str], problem: Problem) -> None:
    for raw in (b'{"username": ', b"{bad json}", b"\xff\xfe not utf-8"):
        response = client.post("/api/v1/users", content=raw, headers={**admin, **JSON})
        body = problem(response, 400)
        assert body["instance"] == "/api/v1/users"
    body = problem(client.post("/api/v1/users", content=b"{bad", headers={**admin, **JSON}), 400)
    assert body["type"].endswith("/malformed-body")
    assert body["title"] == "Malformed request body"
    assert "not valid JSON" in body["detail"]


def test_wrong_types_name_the_field(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    user = {"username": "kieu.sai", "password": "mat-khau-du-dai", "roles": "admin"}
    body = problem(client.post("/api/v1/users", json=user, headers=admin), 422, field="roles")
    assert body["type"].endswith("/invalid-field")
    assert [e["type"] for e in body["errors"]] == ["list_type"]
    assert body["detail"].startswith("roles: ")
    patch = client.patch("/api/v1/users/congdan", json={"active": "maybe"}, headers=admin)
    assert problem(patch, 422, field="active")["errors"][0]["type"] == "bool_parsing"
    both = client.patch(
        "/api/v1/users/congdan", json={"active": "maybe", "roles": [1]}, headers=admin
    )
    assert {e["field"] for e in problem(both, 422)["errors"]} == {"active", "roles.0"}
    problem(client.post("/api/v1/users", json=["a", "list"], headers=admin), 422, field="body")
    problem(client.post("/api/v1/users", headers=admin), 422, field="body")


def test_unknown_fields_are_refused(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    user = {
        "username": "du.thua",
        "password": "mat-khau-du-dai",
        "roles": ["operator"],
        "is_superuser": True,
    }
    body = problem(
        client.post("/api/v1/users", json=user, headers=admin), 422, field="is_superuser"
    )
    assert body["errors"][0]["type"] == "extra_forbidden"
    problem(
        client.patch("/api/v1/users/congdan", json={"token_version": 0}, headers=admin),
        422,
        field="token_version",
    )
    problem(
        client.patch("/api/v1/agencies/SYT", json={"search_key": "x"}, headers=admin),
        422,
        field="search_key",
    )
    key = {"name": "k", "roles": ["device"], "key": "ioc_chosen_by_me"}
    problem(client.post("/api/v1/api-keys", json=key, headers=admin), 422, field="key")
    assert client.get("/api/v1/users/du.thua", headers=admin).status_code == 404


def test_oversized_bodies_are_413(app_factory, problem: Problem) -> None:
    client = app_factory(max_body_bytes=2048)
    form = {"username": "admin", "password": DEMO_PASSWORD}
    token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}", **JSON}
    small = b'{"code": "NHO", "name": "' + b"n" * 100 + b'"}'
    assert client.post("/api/v1/agencies", content=small, headers=admin).status_code == 201
    big = b'{"code": "LON", "name": "' + b"x" * 4000 + b'"}'

    with_length = client.post("/api/v1/agencies", content=big, headers=admin)
    body = problem(with_length, 413)
    assert body["type"].endswith("/payload-too-large") and body["limit"] == 2048

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    streamed = client.post("/api/v1/agencies", content=chunks(), headers=admin)
    assert "content-length" not in streamed.request.headers
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert problem(streamed, 413)["limit"] == 2048

    def form_chunks() -> Iterator[bytes]:
        yield b"username=admin&password="
        yield b"p" * 3000

    login = client.post(
        "/api/v1/auth/token",
        content=form_chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    problem(login, 413)
    anonymous = client.post("/api/v1/agencies", content=chunks(), headers=JSON)
    problem(anonymous, 413)
    assert client.get("/api/v1/agencies/LON").status_code == 404
    # A declared length over the limit is refused before anything reads the body.
    problem(client.request("GET", "/health", content=big), 413)
    assert client.request("GET", "/health", content=small).status_code == 200


def test_unknown_routes_and_methods(client: TestClient, problem: Problem) -> None:
    for path in ("/nope", "/api/v1/nope", "/api/v2/places"):
        body = problem(client.get(path), 404)
        assert body["instance"] == path
    refused = client.delete("/api/v1/places")
    problem(refused, 405)
    assert refused.headers["allow"] == "GET"
    problem(client.put("/api/v1/users/admin", json={}), 405)
    typed = problem(client.get("/api/v1/places/00000"), 404)
    assert typed["type"].endswith("/not-found") and "00000" in typed["detail"]


def test_request_ids(client: TestClient, admin: dict[str, str]) -> None:
    first, second = client.get("/health"), client.get("/nope")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    assert client.get("/api/v1/me").headers["x-request-id"]  # on a 401 too
    mine = {"X-Request-ID": "trace-abc-123"}
    assert client.get("/health", headers=mine).headers["x-request-id"] == "trace-abc-123"
    long = client.get("/health", headers={"X-Request-ID": "r" * 200})
    assert long.headers["x-request-id"] == "r" * 64

    user = {"username": "co.ma", "password": "mat-khau-du-dai", "roles": ["citizen"]}
    created = client.post("/api/v1/users", json=user, headers={**admin, **mine})
    assert created.headers["x-request-id"] == "trace-abc-123"
    uid = str(created.json()["id"])
    audit = client.get(
        "/api/v1/audit", params={"entity": "users", "entity_id": uid}, headers=admin
    ).json()["items"]
    assert [r["request_id"] for r in audit] == ["trace-abc-123"]
    events = client.get("/api/v1/events", params={"type": "user.created"}, headers=admin).json()
    assert [e["subject"] for e in events][-1] == "co.ma"


def test_an_exhausted_connection_pool_is_a_503_problem() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/busy")
    def busy() -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    response = TestClient(app).get("/busy")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json()["title"] == "Service unavailable"
    assert "QueuePool" not in response.text


def test_an_unexpected_error_is_a_500_problem_with_the_request_id(
    app_factory: Callable[..., TestClient], caplog: Any
) -> None:
    """No stack trace leaves; the caller's request id comes back and is in the log line."""
    app = app_factory().app

    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level("ERROR", logger="ioc"):
        response = client.get("/boom", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "trace-500"
    assert response.json()["title"] == "Internal server error"
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert any("trace-500" in r.getMessage() for r in caplog.records)
