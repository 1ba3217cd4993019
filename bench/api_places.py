"""Requests per second of ioc's place lookup against a bare Starlette route on raw sqlite3.

Both apps are driven in-process through the ASGI interface (no sockets), on the same demo
database in the same run, so the ratio shows what ioc's layers cost: FastAPI, auth resolution,
the SQLAlchemy session, pydantic output.

    python bench/api_places.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ioc.app import create_app
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.demo.builder import build_demo

ASGI = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
CODES = ["17", "148", "150", "04789", "04792"]


PLACE_SQL = (
    "SELECT code, name, short_name, level, kind, parent_code, tree, lat, lon, "
    "min_lon, min_lat, max_lon, max_lat, area_km2 FROM places WHERE code = ?"
)


def _reader(path: Path) -> Callable[[str], dict[str, Any] | None]:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.row_factory = sqlite3.Row

    def read(code: str) -> dict[str, Any] | None:
        row = conn.execute(PLACE_SQL, (code,)).fetchone()
        return dict(row) if row else None

    return read


def bare_app(path: Path) -> Starlette:
    read = _reader(path)

    async def place(request: Request) -> Response:
        row = read(request.path_params["code"])
        if row is None:
            return Response(status_code=404)
        return Response(orjson.dumps(row), media_type="application/json")

    return Starlette(routes=[Route("/places/{code}", place)])


def bare_fastapi(path: Path) -> FastAPI:
    read = _reader(path)
    app = FastAPI()

    @app.get("/places/{code}")
    async def place(code: str) -> dict[str, Any]:
        row = read(code)
        if row is None:
            raise HTTPException(404)
        return row

    return app


async def drive(app: ASGI, prefix: str, seconds: float) -> tuple[int, float]:
    """Call the app back to back for ``seconds``; returns (requests, elapsed)."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for code in CODES:
            path = f"{prefix}/{code}"
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "root_path": "",
                "query_string": b"",
                "headers": [(b"host", b"bench")],
                "client": ("127.0.0.1", 1),
                "server": ("bench", 80),
            }
            await app(scope, receive, send)
            count += 1
    assert set(status) == {200}, f"unexpected statuses {set(status)}"
    return count, time.perf_counter() - start


async def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        database = Database(f"sqlite:///{path}")
        build_demo(database)
        ioc = create_app(Settings(database_url=database.url), database=database)
        bare = bare_app(path)
        results = {}
        async with ioc.router.lifespan_context(ioc):
            for name, app, prefix in (
                ("bare Starlette + sqlite3", bare, "/places"),
                ("bare FastAPI + sqlite3", bare_fastapi(path), "/places"),
                ("ioc GET /api/v1/places/{code}", ioc, "/api/v1/places"),
            ):
                await drive(app, prefix, 0.3)  # warm up
                n, elapsed = await drive(app, prefix, seconds)
                results[name] = n / elapsed
        database.dispose()
    base = results["bare Starlette + sqlite3"]
    print(f"{'app':34} {'req/s':>10} {'vs bare':>9}")
    for name, rate in results.items():
        print(f"{name:34} {rate:10,.0f} {rate / base:9.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    asyncio.run(main(parser.parse_args().seconds))
