"""Open311 feedback throughput: ioc's ``POST`` and ``GET requests.json`` beside a bare baseline.

A scratch database gets the demo province and ``--rows`` stored requests (cloned from the demo's
simulated history, spread over the last year), then, in the same run:

* ``POST /open311/v2/requests.json`` (form: api_key, service_code, lat, long, description,
  attribute[code]) — ioc checks the key and the rate limits, validates, locates the commune,
  routes, computes the due date, looks for a likely duplicate, writes the request, its first
  timeline line, its audit rows and its event, and the outbox relay publishes the event;
* ``GET /open311/v2/requests.json?service_code=road,waste,streetlight&status=closed`` — the
  newest 1,000 of the last 90 days;

beside a bare Starlette app doing the raw minimum with the driver itself (sqlite3 / psycopg):
look the key up by prefix and compare its hash, insert one row, commit; run the same SELECT and
serialise it. Both are driven in-process through ASGI (no sockets, one request at a time), so
the ratio is what ioc's layers cost. ``--live`` also serves both with uvicorn (one worker) and
sends POSTs from a lean keep-alive client (bench/loadgen.py) on a fixed schedule at each
``--rate`` for ``--seconds``, to show the p99 under load and the rate where the server stops
keeping up.

    python bench/feedback.py [--db sqlite|postgresql] [--rows N] [--posts 2000]
                             [--live [--rate 50,100,200] [--seconds 10]]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import random
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import psycopg
from loadgen import LeanClient
from scratch import scratch_database
from sqlalchemy import select
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ioc.app import create_app
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.security import api_key_prefix, hash_api_key
from ioc.core.users import create_api_key
from ioc.demo.builder import build_demo
from ioc.feedback.demo import history_maker
from ioc.feedback.models import FeedbackService
from ioc.feedback.simulated import World, load_communes

ASGI = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
PATH = "/open311/v2/requests.json"
GET_QUERY = {"service_code": "road,waste,streetlight", "status": "closed"}
SPAN_DAYS = 365  # stored requests are spread over the last year
NO_LIMIT = 10**9  # the bench must not meet the per-key and per-address POST limits
COLUMNS = (
    "id",
    "service_code",
    "channel",
    "description",
    "lat",
    "lon",
    "address",
    "attributes",
    "place_code",
    "agency_code",
    "status",
    "status_notes",
    "requested_at",
    "updated_at",
    "expected_at",
    "settled_at",
    "escalation_level",
    "escalated_to",
    "escalated_at",
    "rating",
    "rated_at",
    "token_hash",
    "created_by",
)
TIMES = ("requested_at", "updated_at", "expected_at", "settled_at", "escalated_at", "rated_at")
SELECT_SQL = """
SELECT r.id, r.status, r.status_notes, s.name AS service_name, r.service_code, r.description,
       a.name AS agency_responsible, r.requested_at, r.updated_at, r.expected_at,
       r.likely_duplicate_of, r.address, r.address_id, r.lat, r.lon, r.media_url
FROM feedback_requests r
JOIN feedback_services s ON s.code = r.service_code
LEFT JOIN agencies a ON a.code = r.agency_code
WHERE r.service_code IN ({codes}) AND r.status NOT IN ({open})
  AND r.requested_at >= {p} AND r.requested_at <= {p}
ORDER BY r.requested_at DESC, r.id DESC LIMIT 1000
"""
INSERT_COLUMNS = (
    "service_code, channel, description, lat, lon, attributes, status, requested_at, "
    "updated_at, escalation_level, token_hash, created_by, api_key_id"
)


# --- the scratch database ---------------------------------------------------------------------


def raw_dsn(url: str) -> str:
    """The driver's own connection string for a SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return str(parsed.database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def simulated_pool(database: Database, count: int, now: dt.datetime) -> list[dict[str, Any]]:
    """Up to 20,000 requests of the demo's simulated history, to clone from."""
    with database.session() as session:
        maker = history_maker(session, "17", now=now, rng=random.Random(2025))
        return maker.make(max(1, min(count, 20_000) // 150)).requests


def stored_rows(
    pool: list[dict[str, Any]], count: int, now: dt.datetime
) -> Iterator[tuple[Any, ...]]:
    """``count`` requests cloned from ``pool``, spread over the last year."""
    span = dt.timedelta(days=SPAN_DAYS)
    for i in range(count):
        base = pool[i % len(pool)]
        shift = now - span * (1 - i / count) - base["requested_at"]
        row = dict(base, id=i + 1, token_hash=f"{i + 1:064x}")
        for key in TIMES:
            if row[key] is not None:
                row[key] = row[key] + shift
        yield tuple(row[c] for c in COLUMNS)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # as SQLAlchemy stores it: naive UTC text
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def load(database: Database, count: int) -> float:
    """Bulk-load the stored requests (executemany on SQLite, COPY on PostgreSQL); seconds taken."""
    now = utcnow()
    rows = stored_rows(simulated_pool(database, count, now), count, now)
    start = time.perf_counter()  # cloning the rows is part of the load, simulating them is not
    dsn = raw_dsn(database.url)
    if database.dialect == "sqlite":
        conn = sqlite3.connect(dsn)
        marks = ", ".join("?" * len(COLUMNS))
        conn.executemany(
            f"INSERT INTO feedback_requests ({', '.join(COLUMNS)}) VALUES ({marks})",
            (tuple(_sqlite_value(v) for v in row) for row in rows),
        )
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
    else:
        with psycopg.connect(dsn) as pg, pg.cursor() as cur:
            names = ", ".join(COLUMNS)
            cur.execute(f"SELECT {names} FROM feedback_requests LIMIT 0")
            types = [column.type_code for column in cur.description or ()]
            # Binary COPY into the live table: its indexes, unique and foreign keys all checked.
            with cur.copy(f"COPY feedback_requests ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                at = COLUMNS.index("attributes")
                for row in rows:
                    copy.write_row(row[:at] + (json.dumps(row[at]),) + row[at + 1 :])
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('feedback_requests', 'id'),"
                " (SELECT max(id) FROM feedback_requests))"
            )
            pg.commit()
            cur.execute("ANALYZE feedback_requests")
            pg.commit()
    return time.perf_counter() - start


# --- the bare baseline --------------------------------------------------------------------------


class Raw:
    """The driver itself: one connection, the same SQL an application would write by hand."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        dsn = raw_dsn(url)
        self.conn: Any = (
            sqlite3.connect(dsn, check_same_thread=False) if self.sqlite else psycopg.connect(dsn)
        )
        if self.sqlite:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.p = "?" if self.sqlite else "%s"

    def key_hash(self, prefix: str) -> str | None:
        cur = self.conn.execute(f"SELECT key_hash FROM api_keys WHERE prefix = {self.p}", (prefix,))
        row = cur.fetchone()
        return row[0] if row else None

    def insert(self, values: tuple[Any, ...]) -> int:
        marks = ", ".join([self.p] * len(values))
        cur = self.conn.execute(
            f"INSERT INTO feedback_requests ({INSERT_COLUMNS}) VALUES ({marks}) RETURNING id",
            values,
        )
        rid = int(cur.fetchone()[0])
        self.conn.commit()
        return rid

    def select(
        self, codes: list[str], start: dt.datetime, end: dt.datetime
    ) -> list[dict[str, Any]]:
        sql = SELECT_SQL.format(
            codes=", ".join([self.p] * len(codes)),
            open=", ".join([self.p] * 3),
            p=self.p,
        )
        bounds: tuple[Any, ...] = (start, end)
        if self.sqlite:
            bounds = tuple(_sqlite_value(b) for b in bounds)
        cur = self.conn.execute(sql, (*codes, "received", "assigned", "in_progress", *bounds))
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        if not self.sqlite:
            self.conn.commit()
        return rows


def bare_app(url: str) -> Starlette:
    """POST and GET requests.json done by hand on the raw driver."""
    raw = Raw(url)

    async def post(request: Request) -> Response:
        async with request.form() as form:
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
        secret = fields.get("api_key", "")
        prefix = api_key_prefix(secret)
        stored = raw.key_hash(prefix) if prefix else None
        if stored is None or stored != hash_api_key(secret):
            return Response(b'[{"code":401,"description":"unknown API key"}]', 401)
        attributes = {k[10:-1]: v for k, v in fields.items() if k.startswith("attribute[")}
        token = secrets.token_urlsafe(16)
        now = utcnow()
        stamp: Any = _sqlite_value(now) if raw.sqlite else now
        rid = raw.insert(
            (
                fields.get("service_code"),
                "open311",
                fields.get("description", ""),
                float(fields["lat"]),
                float(fields["long"]),
                json.dumps(attributes),
                "received",
                stamp,
                stamp,
                0,
                hashlib.sha256(token.encode()).hexdigest(),
                "apikey:bench",
                None,
            )
        )
        body = orjson.dumps([{"service_request_id": rid, "token": token}])
        return Response(body, media_type="application/json")

    async def get(request: Request) -> Response:
        now = utcnow()
        codes = request.query_params.get("service_code", "").split(",")
        rows = raw.select(codes, now - dt.timedelta(days=90), now)
        return Response(orjson.dumps(rows, default=str), media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[
            Route(PATH, post, methods=["POST"]),
            Route(PATH, get, methods=["GET"]),
            Route("/health", health),
        ]
    )


def bare_factory() -> Starlette:
    """For ``uvicorn --factory`` in ``--live`` mode: the bare app on ``BENCH_DATABASE_URL``."""
    return bare_app(os.environ["BENCH_DATABASE_URL"])


# --- driving the apps in-process ------------------------------------------------------------


def post_bodies(database: Database, secret: str, count: int) -> list[bytes]:
    """Varied, valid reports from the simulated citizens, as Open311 forms."""
    rng = random.Random(311)
    with database.session() as session:
        codes = list(session.scalars(select(FeedbackService.code)))
        world = World(load_communes(session, "17"), codes)
    bodies = []
    for _ in range(count):
        commune = world.commune(rng)
        draft = world.draft(rng, commune, world.category(rng, commune, 7), "open311")
        fields: list[tuple[str, str]] = [
            ("api_key", secret),
            ("service_code", draft.service_code),
            ("lat", str(draft.lat)),
            ("long", str(draft.lon)),
            ("description", draft.description),
        ]
        for code, value in draft.attributes.items():
            if isinstance(value, list):
                fields += [(f"attribute[{code}][]", v) for v in value]
            else:
                fields.append((f"attribute[{code}]", str(value)))
        bodies.append(urlencode(fields).encode())
    return bodies


async def call(app: ASGI, method: str, query: str = "", body: bytes = b"") -> tuple[int, bytes]:
    """One request through the ASGI interface; returns (status, body)."""
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        if (
            sent
            and not sent[-1].get("more_body", False)
            and sent[-1]["type"] == "http.response.body"
        ):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"bench")]
    if body:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "state": {},
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


class Timing:
    """Latencies of one series of requests, and how long the series took."""

    def __init__(self, latencies: list[float], elapsed: float) -> None:
        self.latencies = sorted(latencies)
        self.elapsed = elapsed

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def pct(self, q: float) -> float:
        """The ``q`` quantile in milliseconds."""
        i = min(len(self.latencies) - 1, round(q * (len(self.latencies) - 1)))
        return 1000 * self.latencies[i]


async def series(app: ASGI, method: str, items: list[bytes], query: str = "") -> Timing:
    latencies: list[float] = []
    start = time.perf_counter()
    for body in items:
        t = time.perf_counter()
        status, out = await call(app, method, query, body)
        latencies.append(time.perf_counter() - t)
        if status != 200:
            raise RuntimeError(f"{method} answered {status}: {out[:300]!r}")
    return Timing(latencies, time.perf_counter() - start)


# --- live: uvicorn and a lean client at a target rate ------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served(target: str, env: dict[str, str]) -> AsyncIterator[str]:
    """``uvicorn --factory target`` in a subprocess; yields its base URL once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log", "--app-dir", str(Path(__file__).parent)]
    proc = subprocess.Popen(cmd, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(url + "/health")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{target} did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # still draining an overload: stop it anyway
            proc.kill()
            proc.wait()


async def at_rate(url: str, bodies: list[bytes], rate: float) -> tuple[Timing, int]:
    """POST ``bodies`` on a fixed schedule (open loop); latency counts from the planned send.

    Returns the successful calls' latencies (and the time until the last answer) and the count
    of failures: non-200 answers and calls unanswered within the 10 s client timeout. The
    client is ``loadgen.LeanClient``, so the load generator takes little of the CPU the server
    shares with it.
    """
    loop = asyncio.get_running_loop()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    latencies: list[float] = []
    errors = 0

    async with LeanClient(url, timeout=10) as client:
        raws = [client.request_bytes("POST", PATH, body, headers) for body in bodies]

        async def one(raw: bytes, planned: float) -> None:
            nonlocal errors
            try:
                answer = await client.send(raw)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                errors += 1
                return
            if answer.status == 200:
                latencies.append(loop.time() - planned)
            else:
                errors += 1

        start = loop.time()
        jobs = []
        for i, raw in enumerate(raws):
            planned = start + i / rate
            await asyncio.sleep(max(0.0, planned - loop.time()))
            jobs.append(asyncio.create_task(one(raw, planned)))
        await asyncio.gather(*jobs)
        return Timing(latencies or [math.nan], loop.time() - start), errors


# --- the run ----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    rows = (
        args.rows if args.rows is not None else (1_000_000 if args.db == "postgresql" else 100_000)
    )
    with scratch_database(args.db) as url:
        database = Database(url)
        build_demo(database, feedback_days=0)
        with database.session("bench") as session:
            _, secret = create_api_key(session, "bench", ["connector"])
        seconds = load(database, rows)
        speed = rows / seconds
        print(f"{args.db}: loaded {rows:,} stored requests in {seconds:.1f} s ({speed:,.0f}/s)")
        bodies = post_bodies(database, secret, args.posts + 200)
        warm, bodies = bodies[:200], bodies[200:]
        settings = Settings(
            database_url=url,
            open311_posts_per_minute_key=NO_LIMIT,
            open311_posts_per_minute_ip=NO_LIMIT,
        )
        ioc = create_app(settings, database=database)
        bare = bare_app(url)
        query = urlencode(GET_QUERY)
        gets = [b""] * args.gets
        results: dict[str, dict[str, Timing]] = {}
        async with ioc.router.lifespan_context(ioc):
            status, body = await call(ioc, "GET", query)
            assert status == 200 and len(orjson.loads(body)) == 1000, (status, body[:300])
            for name, app in (("bare Starlette + driver", bare), ("ioc Open311", ioc)):
                half = len(warm) // 2
                await series(app, "POST", warm[:half] if name.startswith("bare") else warm[half:])
                await series(app, "GET", gets[:10], query)
                results[name] = {
                    "POST": await series(app, "POST", bodies),
                    "GET": await series(app, "GET", gets, query),
                }
        report(results, args)
        if args.live:
            await live(args, url, secret, database)
        database.dispose()


def report(results: dict[str, dict[str, Timing]], args: argparse.Namespace) -> None:
    base = results["bare Starlette + driver"]
    print(f"\nin-process ASGI, one at a time: {args.posts:,} POSTs, {args.gets:,} GETs of 1,000")
    print(f"{'app':26} {'call':5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8}")
    for name, timings in results.items():
        for call_name, t in timings.items():
            ratio = t.rate / base[call_name].rate
            print(
                f"{name:26} {call_name:5} {t.rate:8,.0f} {t.pct(0.5):8.2f} {t.pct(0.99):8.2f}"
                f" {ratio:8.1%}"
            )


async def live(args: argparse.Namespace, url: str, secret: str, database: Database) -> None:
    """Each app under uvicorn at each ``--rate`` in turn, until it fails to keep up."""
    env = {
        "IOC_DATABASE_URL": url,
        "IOC_OPEN311_POSTS_PER_MINUTE_KEY": str(NO_LIMIT),
        "IOC_OPEN311_POSTS_PER_MINUTE_IP": str(NO_LIMIT),
        "IOC_LOG_LEVEL": "warning",
        "BENCH_DATABASE_URL": url,
    }
    print(f"\nlive: uvicorn (1 worker) + lean client, {args.seconds:.0f} s at each rate")
    heads = ("POST/s", "ok/s", "p50 ms", "p99 ms", "max ms", "fail")
    print(f"{'app':26} " + " ".join(f"{h:>{7 if h.endswith('/s') else 8}}" for h in heads))
    for name, target in (
        ("bare Starlette + driver", "feedback:bare_factory"),
        ("ioc Open311", "ioc.app:create_app"),
    ):
        async with served(target, env) as base_url:
            await at_rate(base_url, post_bodies(database, secret, 100), 50)  # warm up
            for rate in args.rate:
                bodies = post_bodies(database, secret, int(rate * args.seconds))
                t, errors = await at_rate(base_url, bodies, rate)
                ok = 0 if math.isnan(t.latencies[0]) else len(t.latencies)
                print(
                    f"{name:26} {rate:7,.0f} {ok / t.elapsed:7,.0f} {t.pct(0.5):8.1f}"
                    f" {t.pct(0.99):8.1f} {1000 * max(t.latencies):8.1f} {errors:6}"
                )
                if errors:
                    print(f"{'':26} overloaded at {rate:,.0f} POST/s: higher rates skipped")
                    break


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--rows",
        type=int,
        help="stored requests (default 1,000,000 on PostgreSQL, 100,000 on SQLite)",
    )
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--gets", type=int, default=200)
    parser.add_argument("--live", action="store_true", help="also serve with uvicorn under load")
    parser.add_argument(
        "--rate",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[200.0],
        help="POSTs per second in --live; a comma list (50,100,200) steps up until one fails",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the --live run")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
