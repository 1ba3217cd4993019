"""Entity reads on the event loop (PostgreSQL): same answers, own connections, closed at exit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from ioc.app import create_app
from ioc.context.async_reads import APPLICATION_NAME, POOL_SIZE, STATE
from ioc.core.config import Settings
from ioc.core.db import Database
from tests.context.conftest import BASE, DEFAULT, link, make_key, streetlight

ATTRS = "https://example.org/attrs-context.jsonld"
# (path, query, extra headers): retrievals and queries in every shape the loop path serves
READS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("/entities/urn:ngsi-ld:Streetlight:001", {}, {}),
    ("/entities/urn:ngsi-ld:Streetlight:002", {"options": "keyValues,sysAttrs"}, {}),
    ("/entities/urn:ngsi-ld:Streetlight:003", {"format": "concise", "attrs": "powerState"}, {}),
    ("/entities/urn:ngsi-ld:Streetlight:001", {}, {"Accept": "application/ld+json"}),
    ("/entities/urn:ngsi-ld:Streetlight:404", {}, {}),
    ("/entities/not a uri", {}, {}),
    ("/entities/urn:ngsi-ld:Streetlight:001", {"format": "fancy"}, {}),
    ("/entities", {"type": "Streetlight", "count": "true", "limit": "2", "offset": "1"}, {}),
    ("/entities", {"type": "Streetlight", "q": "dimmingLevel>40", "options": "keyValues"}, {}),
    ("/entities", {"idPattern": "^urn:ngsi-ld:Streetlight:00[12]$", "count": "true"}, {}),
    ("/entities", {"type": "Streetlight", "limit": "0", "count": "true"}, {}),
    ("/entities", {"id": "urn:ngsi-ld:Streetlight:002,urn:ngsi-ld:Streetlight:003"}, {}),
    (
        "/entities",
        {"type": "Streetlight", "georel": "near;maxDistance==2000", "geometry": "Point"}
        | {"coordinates": "[105.33,20.81]"},
        {"Accept": "application/ld+json"},
    ),
    ("/entities", {"attrs": "powerState", "limit": "1"}, {}),
    ("/entities", {}, {}),
]


def _pg_count(url: str) -> int:
    """Connections of the loop-side reader on this database, as PostgreSQL sees them."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            (APPLICATION_NAME,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _settled(url: str, expected: int) -> int:
    """The count once backends that were told to go have gone (they exit asynchronously)."""
    deadline = time.monotonic() + 5
    count = _pg_count(url)
    while count != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        count = _pg_count(url)
    return count


@pytest.fixture
def key(database: Database) -> str:
    key = make_key(database)
    app = create_app(Settings(database_url=database.url), database=database)
    with TestClient(app) as client:
        lights = [
            streetlight(1, dimming=30),
            streetlight(2, 105.34, 20.82, dimming=60),
            streetlight(3, 105.40, 20.90, power="off", dimming=90),
        ]
        response = client.post(
            BASE + "/entityOperations/create",
            json=lights,
            headers={"X-API-Key": key},
        )
        assert response.status_code == 201, response.text
    return key


def _answers(client: TestClient, key: str) -> list[tuple[int, Any, str | None, str | None]]:
    found = []
    for path, params, headers in READS:
        response = client.get(BASE + path, params=params, headers={"X-API-Key": key, **headers})
        found.append(
            (
                response.status_code,
                response.json(),
                response.headers.get("link"),
                response.headers.get("ngsild-results-count"),
            )
        )
    return found


@pytest.fixture
def thread_answers(database: Database, key: str) -> Iterator[list[Any]]:
    """The answers of the thread path: a credential never cached keeps every read there."""
    settings = Settings(database_url=database.url, ngsild_credential_seconds=0)
    with TestClient(create_app(settings, database=database)) as client:
        answers = _answers(client, key)
        if database.dialect == "postgresql":
            assert _pg_count(database.url) == 0  # no loop-side connection was needed
        yield answers


def test_loop_reads_answer_as_the_thread_path(
    database: Database, key: str, thread_answers: list[Any]
) -> None:
    app = create_app(Settings(database_url=database.url), database=database)
    with TestClient(app) as client:
        client.get(BASE + "/entities/urn:ngsi-ld:Streetlight:001", headers={"X-API-Key": key})
        answers = _answers(client, key)  # the key is cached now: PostgreSQL reads on the loop
        if database.dialect == "postgresql":
            assert 1 <= _pg_count(database.url) <= POOL_SIZE
    assert answers == thread_answers
    statuses = [a[0] for a in answers]
    assert statuses == [200, 200, 200, 200, 404, 400, 400, 200, 200, 200, 200, 200, 200, 200, 400]
    assert answers[1][1]["dimmingLevel"] == 60 and "createdAt" in answers[1][1]
    assert answers[2][1] == {"id": "urn:ngsi-ld:Streetlight:003", "type": "Streetlight"} | {
        "powerState": "off"
    }
    assert answers[3][1]["@context"].endswith("ngsi-ld-core-context-v1.8.jsonld")
    assert answers[7][3] == "3" and [e["id"][-3:] for e in answers[7][1]] == ["002", "003"]
    assert [e["id"][-3:] for e in answers[8][1]] == ["002", "003"]
    assert answers[9][3] == "2"
    assert answers[10][1] == [] and answers[10][3] == "3"
    assert sorted(e["id"][-3:] for e in answers[12][1]) == ["001", "002"]
    assert all("@context" in e for e in answers[12][1])


@pytest.fixture
def postgres(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the loop-side reader exists on PostgreSQL only")


@pytest.mark.usefixtures("postgres")
def test_connections_close_when_the_app_stops(database: Database, key: str) -> None:
    app = create_app(Settings(database_url=database.url), database=database)
    with TestClient(app) as client:
        for n in (1, 2, 3) * 10:
            path = f"{BASE}/entities/urn:ngsi-ld:Streetlight:{n:03d}"
            assert client.get(path, headers={"X-API-Key": key}).status_code == 200
        assert 1 <= _pg_count(database.url) <= POOL_SIZE
    assert getattr(app.state, STATE) is None
    assert _settled(database.url, 0) == 0


@pytest.mark.usefixtures("postgres")
def test_other_loops_take_the_thread_path(database: Database, key: str) -> None:
    """Without its lifespan (each request on a new loop) the app opens no loop-side connection."""
    client = TestClient(create_app(Settings(database_url=database.url), database=database))
    for _ in range(3):
        response = client.get(
            BASE + "/entities/urn:ngsi-ld:Streetlight:001", headers={"X-API-Key": key}
        )
        assert response.status_code == 200 and response.json()["dimmingLevel"]["value"] == 30
    assert _pg_count(database.url) == 0
    app = create_app(Settings(database_url=database.url), database=database)
    with TestClient(app):
        reads = getattr(app.state, STATE)

        async def elsewhere() -> bool:
            return bool(reads.serves())

        assert asyncio.run(elsewhere()) is False  # bound to the serving loop only


@pytest.mark.usefixtures("postgres")
def test_unknown_key_or_context_takes_the_thread_path(database: Database, key: str) -> None:
    manager = make_key(database, "connector", "context manager")
    app = create_app(Settings(database_url=database.url), database=database)
    with TestClient(app) as client:
        path = BASE + "/entities/urn:ngsi-ld:Streetlight:001"
        assert client.get(path, headers={"X-API-Key": "nope"}).status_code == 401
        document = {"@context": {"lamp": DEFAULT + "dimmingLevel"}}
        response = client.post(
            BASE + "/jsonldContexts",
            params={"url": ATTRS},
            json=document,
            headers={"X-API-Key": manager},
        )
        assert response.status_code == 201, response.text
        # the key and this @context are resolved in a thread the first time …
        headers = {"X-API-Key": key, "Link": link(ATTRS)}
        first = client.get(path, headers=headers)
        assert first.status_code == 200 and first.json()["lamp"]["value"] == 30
        assert _pg_count(database.url) == 0
        # … and known from then on: the same read runs on the loop
        again = client.get(path, headers=headers)
        assert (again.status_code, again.json()) == (200, first.json())
        assert _pg_count(database.url) == 1


@pytest.mark.usefixtures("postgres")
def test_a_dropped_connection_is_replaced(database: Database, key: str) -> None:
    """The server ending a connection costs one read a detour through the thread path."""
    app = create_app(Settings(database_url=database.url), database=database)
    headers = {"X-API-Key": key}
    path = BASE + "/entities/urn:ngsi-ld:Streetlight:002"
    with TestClient(app) as client:
        assert client.get(path, headers=headers).status_code == 200
        assert client.get(path, headers=headers).status_code == 200
        assert _pg_count(database.url) == 1
        dsn = make_url(database.url).set(drivername="postgresql")
        with psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                (APPLICATION_NAME,),
            )
        assert _settled(database.url, 0) == 0
        for _ in range(3):
            response = client.get(path, headers=headers)
            assert response.status_code == 200 and response.json()["dimmingLevel"]["value"] == 60
        assert _pg_count(database.url) == 1
    assert _settled(database.url, 0) == 0


@pytest.mark.usefixtures("postgres")
def test_concurrent_reads_share_connections(
    database: Database, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many reads at once: each gets its own entity (or 404), over at most POOL_SIZE connections."""
    app = create_app(Settings(database_url=database.url), database=database)
    sent: list[str] = []
    execute = psycopg.AsyncConnection.execute

    async def recorded(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "execute", recorded)
    wanted = [f"urn:ngsi-ld:Streetlight:{n:03d}" for n in (1, 2, 3, 4) * 24]

    async def run() -> tuple[list[tuple[int, str | None]], int]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://ioc") as client,
        ):
            headers = {"X-API-Key": key}
            await client.get(BASE + "/entities/" + wanted[0], headers=headers)  # cache the key

            async def one(eid: str) -> tuple[int, str | None]:
                response = await client.get(BASE + "/entities/" + eid, headers=headers)
                return response.status_code, response.json().get("id")

            answers = await asyncio.gather(*(one(eid) for eid in wanted))
            return list(answers), await asyncio.to_thread(_pg_count, database.url)

    answers, connections = asyncio.run(run())
    expected = [(404, None) if eid.endswith("004") else (200, eid) for eid in wanted]
    assert answers == expected
    assert 1 <= connections <= POOL_SIZE
    assert len(sent) < len(wanted) and any("ANY" in q for q in sent)  # reads shared SELECTs
    assert _settled(database.url, 0) == 0
