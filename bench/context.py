"""NGSI-LD hot paths: GET one entity and PATCH one attribute, beside a bare Starlette baseline.

A scratch database (SQLite file, or a PostgreSQL database made for the run) gets ``--entities``
streetlights through ioc's batch create. Then, in the same run, both apps are driven
in-process through ASGI by ``--concurrency`` client tasks for ``--seconds`` each:

* ``GET /ngsi-ld/v1/entities/{id}`` with a device API key — ioc resolves the key (briefly
  cached), the @context, the tenant and scope, reads the row, compacts and answers;
* ``PATCH /ngsi-ld/v1/entities/{id}/attrs/dimmingLevel`` — ioc checks the fragment, merges it,
  writes the row guarded by its version, records an ``entity.updated`` event in the outbox in
  the same transaction, and the outbox relay publishes it;

beside a bare Starlette app doing the raw minimum with the driver (sqlite3 / psycopg, one
connection, no thread): look the key up and compare its hash; SELECT the row; for PATCH,
change the attribute, UPDATE, INSERT the event row, COMMIT.

    python bench/context.py [--db sqlite|postgresql] [--entities 1000] [--seconds 3]
                            [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ioc.app import create_app
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.migrate import upgrade
from ioc.core.security import api_key_prefix, hash_api_key
from ioc.core.users import create_api_key

ASGI = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
PG_ADMIN_URL = os.environ.get(
    "IOC_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BASE = "/ngsi-ld/v1/entities"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
DIMMING = DEFAULT_VOCAB + "dimmingLevel"


def entity_id(i: int) -> str:
    return f"urn:ngsi-ld:Streetlight:hb-{i:05d}"


def streetlight(i: int) -> dict[str, Any]:
    rng = random.Random(i)
    return {
        "id": entity_id(i),
        "type": "Streetlight",
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [105.30 + rng.random() * 0.08, 20.78 + rng.random() * 0.06],
            },
        },
        "powerState": {"type": "Property", "value": "on"},
        "dimmingLevel": {"type": "Property", "value": 80, "unitCode": "P1"},
        "refStreetlightGroup": {
            "type": "Relationship",
            "object": f"urn:ngsi-ld:StreetlightGroup:hb-{i // 50:03d}",
        },
    }


@contextlib.contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new, empty database of ``backend`` for this run; gone afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"ioc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# --- the bare baseline --------------------------------------------------------------------------


class Raw:
    """The driver itself on one connection: the SQL an application would write by hand."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.drivername.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(str(parsed.database), check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=10000")
        else:
            dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(dsn, autocommit=True)
        self.p = "?" if self.sqlite else "%s"

    def one(self, sql: str, *args: Any) -> Any:
        return self.conn.execute(sql.replace("?", self.p), args).fetchone()

    def key_ok(self, secret: str) -> bool:
        prefix = api_key_prefix(secret)
        row = self.one("SELECT key_hash FROM api_keys WHERE prefix = ?", prefix) if prefix else None
        return row is not None and row[0] == hash_api_key(secret)

    def read(self, eid: str) -> Any:
        return self.one(
            "SELECT type, CAST(attrs AS TEXT) FROM ngsi_entities WHERE tenant = ? AND id = ?",
            "default",
            eid,
        )

    def patch(self, eid: str, value: Any) -> bool:
        now = dt.datetime.now(dt.UTC)
        stamp: Any = now.replace(tzinfo=None).isoformat(" ") if self.sqlite else now
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn.execute("BEGIN")
        row = self.one(
            "SELECT CAST(attrs AS TEXT), version FROM ngsi_entities WHERE tenant = ? AND id = ?"
            + ("" if self.sqlite else " FOR UPDATE"),
            "default",
            eid,
        )
        if row is None:
            self.conn.execute("ROLLBACK")
            return False
        attrs = orjson.loads(row[0])
        attrs[DIMMING][0]["value"] = value
        cast = "?" if self.sqlite else "CAST(%s AS JSONB)"
        self.conn.execute(
            f"UPDATE ngsi_entities SET attrs = {cast}, version = version + 1, "
            f"modified_at = {self.p} WHERE tenant = {self.p} AND id = {self.p}",
            (orjson.dumps(attrs).decode(), stamp, "default", eid),
        )
        data = orjson.dumps({"id": eid, "attributes": [DIMMING]}).decode()
        self.conn.execute(
            "INSERT INTO events (event_id, type, time, actor, subject, data) VALUES "
            f"({', '.join([self.p] * 6)})",
            (uuid.uuid4().hex, "entity.updated", stamp, "bench", eid, data),
        )
        self.conn.execute("COMMIT")
        return True


def bare_app(url: str) -> Starlette:
    raw = Raw(url)

    def authorised(request: Request) -> bool:
        return raw.key_ok(request.headers.get("x-api-key", ""))

    async def get(request: Request) -> Response:
        if not authorised(request):
            return Response(status_code=401)
        eid = request.path_params["eid"]
        row = raw.read(eid)
        if row is None:
            return Response(status_code=404)
        body = {"id": eid, "type": row[0], **orjson.loads(row[1])}
        return Response(orjson.dumps(body), media_type="application/json")

    async def patch(request: Request) -> Response:
        if not authorised(request):
            return Response(status_code=401)
        fragment = orjson.loads(await request.body())
        ok = raw.patch(request.path_params["eid"], fragment["value"])
        return Response(status_code=204 if ok else 404)

    return Starlette(
        routes=[
            Route(BASE + "/{eid}", get, methods=["GET"]),
            Route(BASE + "/{eid}/attrs/dimmingLevel", patch, methods=["PATCH"]),
        ]
    )


# --- driving the apps in-process ----------------------------------------------------------------


def _scope(method: str, path: str, key: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"bench"), (b"x-api-key", key.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }


async def call(app: ASGI, method: str, path: str, key: str, body: bytes = b"") -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(method, path, key, body), receive, send)
    return status


async def drive(
    app: ASGI, kind: str, key: str, entities: int, seconds: float, concurrency: int
) -> float:
    """Requests per second of ``kind`` (get | patch) from ``concurrency`` client tasks."""
    done = 0
    bad: set[int] = set()
    stop = time.perf_counter() + seconds

    async def client(seed: int) -> None:
        nonlocal done
        rng = random.Random(seed)
        while time.perf_counter() < stop:
            eid = entity_id(rng.randrange(entities))
            if kind == "get":
                status = await call(app, "GET", f"{BASE}/{eid}", key)
                ok = status == 200
            else:
                body = orjson.dumps({"value": rng.randrange(101)})
                status = await call(app, "PATCH", f"{BASE}/{eid}/attrs/dimmingLevel", key, body)
                ok = status == 204
            if not ok:
                bad.add(status)
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    assert not bad, f"unexpected statuses {bad}"
    return done / elapsed


async def load(app: ASGI, key: str, entities: int) -> float:
    """Create the streetlights through POST /entityOperations/create; entities per second."""
    start = time.perf_counter()
    for first in range(0, entities, 1000):
        chunk = [streetlight(i) for i in range(first, min(entities, first + 1000))]
        status = await call(
            app, "POST", "/ngsi-ld/v1/entityOperations/create", key, orjson.dumps(chunk)
        )
        assert status == 201, status
    return entities / (time.perf_counter() - start)


async def main(backend: str, entities: int, seconds: float, concurrency: int) -> None:
    with scratch_database(backend) as url:
        database = Database(url)
        upgrade(database)
        with database.session("bench") as session:
            _, key = create_api_key(session, "bench", ["device"])
        ioc = create_app(Settings(database_url=url), database=database)
        bare = bare_app(url)
        results: dict[str, float] = {}
        async with ioc.router.lifespan_context(ioc):
            created = await load(ioc, key, entities)
            for kind in ("get", "patch"):
                for name, app in (("bare Starlette", bare), ("ioc", ioc)):
                    await drive(app, kind, key, entities, 0.3, concurrency)  # warm up
                    results[f"{kind} {name}"] = await drive(
                        app, kind, key, entities, seconds, concurrency
                    )
        database.dispose()
    driver = "sqlite3" if backend == "sqlite" else "psycopg"
    print(f"backend {backend}, {entities:,} streetlights, {concurrency} concurrent clients")
    print(f"{'':44} {'req/s':>9} {'vs bare':>8}")
    for kind, label in (("get", "GET /entities/{id}"), ("patch", "PATCH …/attrs/dimmingLevel")):
        base = results[f"{kind} bare Starlette"]
        print(f"{label + ' — bare Starlette + ' + driver:44} {base:9,.0f}")
        rate = results[f"{kind} ioc"]
        print(f"{label + ' — ioc':44} {rate:9,.0f} {rate / base:8.0%}")
    print(f"batch create (ioc, 1,000 per request): {created:,.0f} entities/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.entities, args.seconds, args.concurrency))
