"""Helpers for the NGSI-LD tests: a client on a fresh database, keys, entities, events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.models import OutboxEvent
from ioc.core.users import create_api_key

BASE = "/ngsi-ld/v1"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
JSONLD_REL = "http://www.w3.org/ns/json-ld#context"


def link(url: str) -> str:
    return f'<{url}>; rel="{JSONLD_REL}"; type="application/ld+json"'


class Ngsi:
    """A TestClient speaking NGSI-LD under /ngsi-ld/v1 with a device key by default."""

    def __init__(self, client: TestClient, database: Database, key: str, manager: str) -> None:
        self.client = client
        self.database = database
        self.key = key
        self.headers: dict[str, str] = {"X-API-Key": key}
        self.manager = {"X-API-Key": manager}  # a connector's key: may manage @contexts

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        content: bytes | str | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        sent = dict(self.headers) if auth else {}
        if json is not None:
            sent["Content-Type"] = "application/json"
            content = _dumps(json)
        sent.update(headers or {})
        return self.client.request(
            method, BASE + path, content=content, headers=sent, params=params
        )

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def create(self, entity: dict[str, Any], **kw: Any) -> None:
        response = self.post("/entities", json=entity, **kw)
        assert response.status_code == 201, response.text

    def entity(self, entity_id: str, **kw: Any) -> dict[str, Any]:
        response = self.get(f"/entities/{entity_id}", **kw)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def ids(self, headers: dict[str, str] | None = None, **params: Any) -> list[str]:
        response = self.get("/entities", params={"limit": 1000, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()]

    def events(self, prefix: str = "entity.") -> list[tuple[str, dict[str, Any]]]:
        with self.database.session() as session:
            rows = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type.startswith(prefix))
                .order_by(OutboxEvent.id)
            )
            return [(row.type, row.data) for row in rows]


def _dumps(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value)


def make_key(database: Database, role: str = "device", name: str = "test device") -> str:
    with database.session("test") as session:
        _, secret = create_api_key(session, name, [role])
    return secret


def assert_error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """``response`` is NGSI-LD ProblemDetails of ``status`` and type ``kind``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    expected = kind if kind.startswith("https://") else ERRORS + kind
    assert body["type"] == expected, body
    assert body["title"] and body["detail"], body
    assert "Traceback" not in response.text
    return body


NgsiFactory = Callable[..., Ngsi]


@pytest.fixture
def ngsi_factory(database: Database) -> Iterator[NgsiFactory]:
    """Make an NGSI-LD client (lifespan running) on a fresh database with chosen settings."""
    from ioc.app import create_app
    from ioc.core.config import Settings

    clients: list[TestClient] = []
    key = make_key(database)
    manager = make_key(database, "connector", "context manager")

    def make(**settings: Any) -> Ngsi:
        app = create_app(Settings(database_url=database.url, **settings), database=database)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Ngsi(client, database, key, manager)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def ngsi(ngsi_factory: NgsiFactory) -> Ngsi:
    return ngsi_factory()


def streetlight(
    n: int,
    lon: float = 105.33,
    lat: float = 20.81,
    *,
    power: str = "on",
    dimming: int = 80,
    **extra: Any,
) -> dict[str, Any]:
    """A Streetlight entity of the core context (attribute names in the default vocabulary)."""
    return {
        "id": f"urn:ngsi-ld:Streetlight:{n:03d}",
        "type": "Streetlight",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "powerState": {"type": "Property", "value": power},
        "dimmingLevel": {"type": "Property", "value": dimming, "unitCode": "P1"},
        **extra,
    }
