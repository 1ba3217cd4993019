from starlette.testclient import TestClient


def test_health_and_openapi_answer(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["places"] == 162
    assert health["place_tree"] == "legacy"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/auth/token" in spec["paths"]


def test_login_and_me(client: TestClient, auth) -> None:
    me = client.get("/api/v1/me", headers=auth("dabac")).json()
    assert me["roles"] == ["district_admin"]
    assert me["scope"]["place_code"] == "150"
