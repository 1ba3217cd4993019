"""Login (OAuth2 password flow), who am I, and when a token stops working."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import jwt
from starlette.testclient import TestClient

from ioc.core.security import TOKEN_ISSUER
from ioc.demo.builder import DEMO_PASSWORD

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"
Auth = Callable[..., dict[str, str]]
Problem = Callable[..., dict[str, Any]]


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    response = client.post(TOKEN, data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    return str(body["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_gives_a_bearer_token_for_me(client: TestClient) -> None:
    response = client.post(TOKEN, data={"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 60 * 60
    me = client.get(ME, headers=bearer(body["access_token"])).json()
    assert me == {
        "kind": "user",
        "username": "admin",
        "full_name": "Quản trị hệ thống",
        "roles": ["admin"],
        "scope": {"place_code": None, "agency_codes": None},
    }
    # The username is matched without regard to case or surrounding spaces.
    staff = client.get(ME, headers=bearer(login(client, "  SoTTTT "))).json()
    assert staff["username"] == "sotttt"
    assert staff["roles"] == ["agency_staff"]
    assert staff["scope"] == {"place_code": None, "agency_codes": ["STTTT"]}


def test_login_refusals_are_401_problems(client: TestClient, problem: Problem) -> None:
    wrong = client.post(TOKEN, data={"username": "admin", "password": "not-the-password"})
    unknown = client.post(TOKEN, data={"username": "nobody", "password": DEMO_PASSWORD})
    for response in (wrong, unknown):
        problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "access_token" not in response.text
    # The same answer whether the name exists or not: no probing for usernames.
    assert wrong.json()["detail"] == unknown.json()["detail"]
    # An empty form field counts as missing; JSON is not the OAuth2 password flow.
    problem(client.post(TOKEN, data={"username": "admin", "password": ""}), 422, field="password")
    problem(client.post(TOKEN, data={"username": "admin"}), 422, field="password")
    as_json = {"username": "admin", "password": DEMO_PASSWORD}
    problem(client.post(TOKEN, json=as_json), 422, field="username")


def test_anonymous_and_garbage_credentials_get_401(client: TestClient, problem: Problem) -> None:
    problem(client.get(ME), 401)
    for header in ("Bearer not-a-token", "Bearer ioc_deadbeef_nope", "Bearer "):
        response = client.get(ME, headers={"Authorization": header})
        problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


def test_deactivated_user_is_locked_out_at_once(
    client: TestClient, auth: Auth, admin: dict[str, str], problem: Problem
) -> None:
    citizen = bearer(login(client, "congdan"))
    assert client.get(ME, headers=citizen).status_code == 200

    off = client.patch("/api/v1/users/congdan", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    problem(client.get(ME, headers=citizen), 401)
    refused = client.post(TOKEN, data={"username": "congdan", "password": DEMO_PASSWORD})
    problem(refused, 401)

    on = client.patch("/api/v1/users/congdan", json={"active": True}, headers=admin)
    assert on.status_code == 200 and on.json()["active"] is True
    assert client.get(ME, headers=bearer(login(client, "congdan"))).status_code == 200
    # The token from before the deactivation stays dead after reactivation.
    problem(client.get(ME, headers=citizen), 401)


def test_admin_cannot_deactivate_itself(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    response = client.patch("/api/v1/users/admin", json={"active": False}, headers=admin)
    problem(response, 422, field="active")
    assert client.get(ME, headers=admin).status_code == 200


def test_password_change_ends_old_tokens_and_old_password(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    old_token = bearer(login(client, "vanhanh"))
    changed = client.patch(
        "/api/v1/users/vanhanh", json={"password": "a-brand-new-pass"}, headers=admin
    )
    assert changed.status_code == 200
    problem(client.get(ME, headers=old_token), 401)
    problem(client.post(TOKEN, data={"username": "vanhanh", "password": DEMO_PASSWORD}), 401)
    fresh = bearer(login(client, "vanhanh", "a-brand-new-pass"))
    assert client.get(ME, headers=fresh).json()["username"] == "vanhanh"
    # Changing someone else's password leaves the admin's own token working.
    assert client.get(ME, headers=admin).status_code == 200
    problem(client.patch("/api/v1/users/vanhanh", json={"password": "short"}, headers=admin), 422)


def test_forged_and_expired_tokens_are_refused(app_factory, problem: Problem) -> None:
    key = "a-test-signing-key-that-is-long-enough-for-hs256"
    client = app_factory(secret_key=key)
    real = login(client, "admin")
    claims = jwt.decode(real, key, algorithms=["HS256"], issuer=TOKEN_ISSUER)
    now = dt.datetime.now(dt.UTC)

    def signed(with_key: str = key, **changes: object) -> dict[str, str]:
        return bearer(jwt.encode({**claims, **changes}, with_key, algorithm="HS256"))

    # The control: a token we sign ourselves with the server's key is accepted ...
    assert client.get(ME, headers=signed()).status_code == 200
    # ... so each refusal below is due to the one thing changed.
    expired = signed(iat=now - dt.timedelta(hours=2), exp=now - dt.timedelta(minutes=1))
    problem(client.get(ME, headers=expired), 401)
    problem(client.get(ME, headers=signed(with_key="someone-elses-key-" * 3)), 401)
    problem(client.get(ME, headers=signed(iss="not-ioc")), 401)
    problem(client.get(ME, headers=signed(ver=claims["ver"] + 1)), 401)
    problem(client.get(ME, headers=signed(uid=987654)), 401)
    unsigned = jwt.encode(claims, None, algorithm="none")
    problem(client.get(ME, headers=bearer(unsigned)), 401)
    header, payload, signature = real.split(".")
    problem(client.get(ME, headers=bearer(f"{header}.{payload}.{signature[::-1]}")), 401)


def test_tokens_outlive_a_restart_in_development(app_factory) -> None:
    """Without IOC_SECRET_KEY the signing key is kept in the database, not in the process."""
    first = app_factory()
    token = bearer(login(first, "lanhdao"))
    second = app_factory()
    assert second.get(ME, headers=token).json()["username"] == "lanhdao"
    # A server with its own IOC_SECRET_KEY does not accept the development key's tokens.
    assert app_factory(secret_key="another-key-" * 4).get(ME, headers=token).status_code == 401
