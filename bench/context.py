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
import datetime as dt
import random
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import psycopg
from scratch import scratch_database
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
BASE = "/ngsi-ld/v1/entities"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
DIMMING = DEFAULT_VOCAB + "dimmingLevel"
STREETLIGHT = DEFAULT_VOCAB + "Streetlight"


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
        data = orjson.dumps(  # the event ioc writes, so subscribers read both alike
            {"tenant": "default", "id": eid, "type": STREETLIGHT, "attributes": [DIMMING]}
        ).decode()
        self.conn.execute(
            "INSERT INTO events (event_id, type, time, actor, subject, data) VALUES "
            f"({', '.join([self.p] * 6)})",
            (uuid.uuid4().hex, "entity.updated", stamp, "bench", eid, data),
        )
        self.conn.execute(  # the temporal store's row, as ioc keeps one per change
            "INSERT INTO ngsi_attribute_history (tenant, entity_id, entity_type, attr, "
            "observed_at, recorded_at, value, number, meta) VALUES "
            f"({', '.join([self.p] * 9)})",
            ("default", eid, "Streetlight", DIMMING, stamp, stamp, str(value), value, "{}"),
        )
        self.conn.execute("COMMIT")
        return True

    def bulk(self, rows: list[dict[str, Any]], tag: str) -> int:
        """The rows as entities plus one history row per attribute, in one transaction:
        ``COPY`` on PostgreSQL, one ``executemany`` INSERT each on SQLite; attributes written."""
        now = dt.datetime.now(dt.UTC)
        stamp: Any = now.replace(tzinfo=None).isoformat(" ") if self.sqlite else now
        entities: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        for row in rows:
            eid = f"{row['id']}:{tag}"
            attrs = {DEFAULT_VOCAB + k: [v] for k, v in row.items() if k not in ("id", "type")}
            lon, lat = row["location"]["value"]["coordinates"]
            where = f"SRID=4326;POINT({lon} {lat})" if not self.sqlite else None
            entities.append(
                (
                    "default",
                    eid,
                    STREETLIGHT,
                    orjson.dumps(attrs).decode(),
                    where,
                    lon,
                    lat,
                    lon,
                    lat,
                    1,
                    stamp,
                    stamp,
                )
            )
            for name, (instance,) in attrs.items():
                value = instance.get("value", instance.get("object"))
                number = value if isinstance(value, int | float) else None
                history.append(
                    (
                        "default",
                        eid,
                        STREETLIGHT,
                        name,
                        stamp,
                        stamp,
                        orjson.dumps(value).decode(),
                        number,
                        '{"type":"Property"}',
                    )
                )
        columns = (
            "tenant, id, type, attrs, location, min_lon, min_lat, max_lon, max_lat, version, "
            "created_at, modified_at"
        )
        history_columns = (
            "tenant, entity_id, entity_type, attr, observed_at, recorded_at, value, number, meta"
        )
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                f"INSERT INTO ngsi_entities ({columns}) VALUES ({', '.join('?' * 12)})", entities
            )
            self.conn.executemany(
                f"INSERT INTO ngsi_attribute_history ({history_columns}) "
                f"VALUES ({', '.join('?' * 9)})",
                history,
            )
            self.conn.execute("COMMIT")
            return len(history)
        with self.conn.transaction(), self.conn.cursor() as cur:
            with cur.copy(f"COPY ngsi_entities ({columns}) FROM STDIN") as copy:
                for entity in entities:
                    copy.write_row(entity)
            with cur.copy(f"COPY ngsi_attribute_history ({history_columns}) FROM STDIN") as copy:
                for item in history:
                    copy.write_row(item)
        return len(history)


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


UPSERT_REQUESTS = 8  # back to back, per pass
UPSERT_PASSES = 3


async def upsert(app: ASGI, key: str, url: str, entities: int) -> dict[str, float]:
    """Attributes per second of ioc POST /entityOperations/upsert of the loaded streetlights
    (1,000 per request, new values each time) beside raw bulk writes of the same rows.

    Passes alternate raw, ioc, raw, ioc…; each pass is ``UPSERT_REQUESTS`` writes back to
    back, so in ioc's the outbox relay publishes one request's events while the next is
    written, as in steady use. Two figures: sustained (the best pass) and one request (the
    fastest single write of any pass, the measure of earlier stops)."""
    rows = [streetlight(i) for i in range(min(entities, 1000))]
    attributes = sum(len(r) - 2 for r in rows)
    raw = Raw(url)
    # Settle first, as pgbench does: the PATCH phase's events published, tables vacuumed.
    await asyncio.sleep(2)
    if not raw.sqlite:
        raw.conn.execute("VACUUM ANALYZE")
    passes: dict[str, list[float]] = {"raw": [], "ioc": []}
    singles: dict[str, list[float]] = {"raw": [], "ioc": []}
    for run in range(UPSERT_PASSES):
        start = time.perf_counter()
        for n in range(UPSERT_REQUESTS):
            began = time.perf_counter()
            written = raw.bulk(rows, f"raw{run}-{n}")
            singles["raw"].append(time.perf_counter() - began)
            assert written == attributes, (written, attributes)
        passes["raw"].append(time.perf_counter() - start)
        bodies = []
        for _ in range(UPSERT_REQUESTS):
            for row in rows:
                row["dimmingLevel"]["value"] = (row["dimmingLevel"]["value"] + 7) % 101
            bodies.append(orjson.dumps(rows))
        start = time.perf_counter()
        for body in bodies:
            began = time.perf_counter()
            status = await call(app, "POST", "/ngsi-ld/v1/entityOperations/upsert", key, body)
            singles["ioc"].append(time.perf_counter() - began)
            assert status == 204, status
        passes["ioc"].append(time.perf_counter() - start)
    raw.conn.close()
    rates = {k: attributes * UPSERT_REQUESTS / min(v) for k, v in passes.items()}
    rates.update({f"{k} single": attributes / min(v) for k, v in singles.items()})
    return rates


# --- temporal: a year of hourly values, aggregated by day ------------------------------------

METER = "urn:ngsi-ld:Meter:bench"
YEAR = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
AGGREGATION = (
    "options=aggregatedValues&aggrMethods=avg,min,max&aggrPeriodDuration=P1D&timerel=between"
    "&timeAt=2025-01-01T00:00:00Z&endTimeAt=2026-01-01T00:00:00Z"
)
RAW_DAILY = {
    "sqlite": "(CAST(strftime('%s', observed_at) AS INTEGER) - ?) / 86400",
    "postgresql": "date_bin(interval '1 day', observed_at, ?)",
}


async def _get(app: ASGI, path: str, query: str, key: str) -> bytes:
    scope = {**_scope("GET", path, key, b""), "query_string": query.encode()}
    parts: list[bytes] = []
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    assert status == 200, status
    return b"".join(parts)


async def temporal(app: ASGI, key: str, url: str, backend: str) -> dict[str, float]:
    """Milliseconds (median of 20) for a year of hourly values → 365 daily avg/min/max."""
    hours = [YEAR + dt.timedelta(hours=h) for h in range(8_760)]
    series = [
        {"value": 50 + 40 * ((h % 24) / 24), "observedAt": t.isoformat()}
        for h, t in enumerate(hours)
    ]
    body = orjson.dumps({"id": METER, "type": "Meter", "power": series})
    assert await call(app, "POST", "/ngsi-ld/v1/temporal/entities", key, body) == 201
    raw = Raw(url)
    origin: Any = YEAR.replace(tzinfo=None).isoformat(" ") if raw.sqlite else YEAR
    origin_arg: Any = int(YEAR.timestamp()) if raw.sqlite else YEAR
    sql = (
        f"SELECT {RAW_DAILY[backend]} AS day, avg(number), min(number), max(number) "
        "FROM ngsi_attribute_history WHERE tenant = ? AND entity_id = ? AND attr = ? "
        "AND observed_at >= ? AND observed_at < ? GROUP BY day ORDER BY day"
    ).replace("?", raw.p)
    end: Any = (YEAR + dt.timedelta(days=365)).replace(tzinfo=None).isoformat(" ")
    end = end if raw.sqlite else YEAR + dt.timedelta(days=365)
    args = (origin_arg, "default", METER, DEFAULT_VOCAB + "power", origin, end)
    path = f"/ngsi-ld/v1/temporal/entities/{METER}"

    def timed_raw() -> float:
        start = time.perf_counter()
        days = raw.conn.execute(sql, args).fetchall()
        assert len(days) == 365, len(days)
        return time.perf_counter() - start

    async def timed_ioc() -> float:
        start = time.perf_counter()
        answer = orjson.loads(await _get(app, path, AGGREGATION, key))
        assert len(answer["power"]["avg"]) == 365
        return time.perf_counter() - start

    raw_times = sorted(timed_raw() for _ in range(20))
    ioc_times = sorted([await timed_ioc() for _ in range(20)])
    return {"raw": raw_times[10] * 1000, "ioc": ioc_times[10] * 1000}


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
            upserted = await upsert(ioc, key, url, entities)
            year = await temporal(ioc, key, url, backend)
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
    bulk = "COPY" if backend == "postgresql" else "executemany INSERT"
    print(
        f"batch upsert: {UPSERT_REQUESTS} writes of 1,000 streetlights back to back, "
        f"best of {UPSERT_PASSES} passes (one request: the fastest single write)"
    )
    for how, suffix in (("sustained", ""), ("one request", " single")):
        raw_rate, ioc_rate = upserted["raw" + suffix], upserted["ioc" + suffix]
        print(f"{'  ' + how + ' — raw ' + bulk + ' (' + driver + ')':44} {raw_rate:9,.0f} attrs/s")
        print(f"{'  ' + how + ' — ioc':44} {ioc_rate:9,.0f} attrs/s {ioc_rate / raw_rate:8.0%}")
    print(
        f"a year of hourly values → 365 daily avg/min/max: ioc GET /temporal/entities/{{id}} "
        f"{year['ioc']:.1f} ms, raw GROUP BY ({driver}) {year['raw']:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.entities, args.seconds, args.concurrency))
