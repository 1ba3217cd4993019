"""Bounding-box queries on a large cadastre, and GeoJSON served by /ogcapi, beside raw SQL.

Builds N synthetic parcels (a grid of ~20 m lots over Hòa Bình city) in a scratch database,
then times, for random windows that each hold ~1,000 parcels:

- the bbox query as ioc runs it (``ioc.gis.spatial`` + the rows of a page), against the raw
  SQL a hand-written service would send (PostGIS ``&&``/``ST_Intersects``; SQLite R*Tree);
- features served as GeoJSON by ``GET /ogcapi/collections/parcels/items`` (in-process ASGI, no
  sockets), against raw SQL + ``orjson`` building the same FeatureCollection.

    python bench/gis.py [--parcels 1000000] [--backend both|sqlite|postgresql] [--queries 40]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scratch import scratch_database  # noqa: E402

from ioc.app import create_app  # noqa: E402
from ioc.core import places  # noqa: E402
from ioc.core.auth import ANONYMOUS  # noqa: E402
from ioc.core.config import Settings  # noqa: E402
from ioc.core.db import Database  # noqa: E402
from ioc.core.migrate import upgrade  # noqa: E402
from ioc.gis.land_sources import ParcelSource  # noqa: E402
from ioc.gis.query import ItemsQuery  # noqa: E402

WEST, SOUTH = 105.26, 20.74
CELL_M = 20.0
PER_WINDOW = 1000
# What the raw baseline reads and serves: the properties /ogcapi serves to an anonymous caller.
RAW_NAMES = (
    "key",
    "commune_code",
    "sheet_no",
    "parcel_no",
    "area_m2",
    "land_use",
    "zone_code",
    "status",
    "version",
    "updated_at",
)
RAW_COLUMNS = ", ".join(RAW_NAMES)
COMMUNES = ["04789", "04792", "04795", "04798", "04801", "04804", "04807", "04816"]


def grid(n: int) -> tuple[int, float, float]:
    side = math.ceil(math.sqrt(n))
    dlat = CELL_M / 111_320
    dlon = CELL_M / (111_320 * math.cos(math.radians(SOUTH + side * dlat / 2)))
    return side, dlat, dlon


def rows(n: int) -> Any:
    """(id, key, commune, sheet, parcel, area, use, polygon corners) for every parcel."""
    side, dlat, dlon = grid(n)
    uses = ("ODT", "ONT", "LUC", "CLN", "RSX")
    for i in range(n):
        r, c = divmod(i, side)
        w, s = WEST + c * dlon, SOUTH + r * dlat
        yield (
            i + 1,
            f"B-{r}-{c}",
            COMMUNES[i % len(COMMUNES)],
            r + 1,
            c + 1,
            400.0,
            uses[i % 5],
            (w, s, w + dlon, s + dlat),
        )


def load_postgresql(database: Database, n: int) -> None:
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        columns = (
            "id, key, commune_code, sheet_no, parcel_no, area_m2, land_use, status, version, "
            "updated_at, geometry, min_lon, min_lat, max_lon, max_lat"
        )
        with cur.copy(f"COPY gis_parcels ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for pid, key, commune, sheet, no, area, use, (w, s, e, nn) in rows(n):
                wkt = f"SRID=4326;POLYGON(({w} {s},{e} {s},{e} {nn},{w} {nn},{w} {s}))"
                copy.write_row(
                    (
                        pid,
                        key,
                        commune,
                        sheet,
                        no,
                        area,
                        use,
                        "active",
                        1,
                        "2026-01-01T00:00:00Z",
                        wkt,
                        w,
                        s,
                        e,
                        nn,
                    )
                )
        raw.commit()
        cur.execute("ANALYZE gis_parcels")
        raw.commit()
    finally:
        raw.close()


def load_sqlite(database: Database, n: int) -> None:
    raw = database.engine.raw_connection()
    try:
        sql = (
            "INSERT INTO gis_parcels (id, key, commune_code, sheet_no, parcel_no, area_m2, "
            "land_use, status, version, updated_at, geometry, min_lon, min_lat, max_lon, max_lat) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 1, '2026-01-01 00:00:00', ?, ?, ?, ?, ?)"
        )
        batch: list[tuple[Any, ...]] = []
        cur = raw.cursor()
        for pid, key, commune, sheet, no, area, use, (w, s, e, nn) in rows(n):
            ring = [[w, s], [e, s], [e, nn], [w, nn], [w, s]]
            geometry = orjson.dumps({"type": "Polygon", "coordinates": [ring]}).decode()
            batch.append((pid, key, commune, sheet, no, area, use, geometry, w, s, e, nn))
            if len(batch) == 50_000:
                cur.executemany(sql, batch)
                batch.clear()
        cur.executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()


def windows(n: int, count: int) -> list[tuple[float, float, float, float]]:
    side, dlat, dlon = grid(n)
    k = math.sqrt(PER_WINDOW)
    rng = random.Random(1)
    out = []
    for _ in range(count):
        r = rng.uniform(0, max(side - k - 1, 0))
        c = rng.uniform(0, max(min(side, n / side) - k - 1, 0))
        w, s = WEST + c * dlon, SOUTH + r * dlat
        out.append((w + dlon * 0.5, s + dlat * 0.5, w + dlon * (k - 0.5), s + dlat * (k - 0.5)))
    return out


def timed(fn: Callable[[], int], runs: list[Any]) -> tuple[float, float, float]:
    """(median ms, p95 ms, mean items) of ``fn`` per window."""
    times, items = [], []
    for _ in runs:
        start = time.perf_counter()
        items.append(fn())
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], statistics.mean(items)


def raw_query(dialect: str, raw: Any) -> Callable[[tuple[float, ...]], list[tuple[Any, ...]]]:
    """The hand-written query: the same rows, with no layer of ioc in between."""
    if dialect == "postgresql":
        sql = (
            f"SELECT {RAW_COLUMNS}, ST_AsGeoJSON(geometry, 9) FROM gis_parcels WHERE geometry && "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND ST_Intersects(geometry, "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY id LIMIT 1000"
        )
        return lambda b: raw.cursor().execute(sql, (*b, *b)).fetchall()  # type: ignore[no-any-return]
    sql = (
        f"SELECT {RAW_COLUMNS}, p.geometry FROM gis_parcels p "
        "JOIN gis_parcels_rtree r ON r.id = p.id "
        "WHERE r.min_lon <= ? AND r.max_lon >= ? AND r.min_lat <= ? AND r.max_lat >= ? "
        "ORDER BY p.id LIMIT 1000"
    )
    return lambda b: raw.cursor().execute(sql, (b[2], b[0], b[3], b[1])).fetchall()  # type: ignore[no-any-return]


def run(backend: str, n: int, queries: int) -> None:
    with scratch_database(backend) as url:
        database = Database(url)
        upgrade(database)
        with database.session("bench") as session:
            places.load_province(session, "Hòa Bình")
        start = time.perf_counter()
        (load_postgresql if backend == "postgresql" else load_sqlite)(database, n)
        print(f"\n{backend}: {n:,} parcels loaded in {time.perf_counter() - start:.1f} s")
        boxes = windows(n, queries)
        source = ParcelSource()
        session = database.sessionmaker()
        it = iter(boxes)

        def ioc_query() -> int:
            found, _ = source.items(session, ANONYMOUS, ItemsQuery(bbox=next(it), limit=PER_WINDOW))
            return len(found)

        ioc_query()  # warm caches (place index, prepared statements)
        it = iter(boxes)
        med, p95, mean = timed(ioc_query, boxes)
        raw = database.engine.raw_connection()
        query = raw_query(database.dialect, raw)
        it2 = iter(boxes)
        query(boxes[0])
        rmed, rp95, rmean = timed(lambda: len(query(next(it2))), boxes)
        print(
            f"  bbox query, ioc     : median {med:6.1f} ms, p95 {p95:6.1f} ms, {mean:,.0f} parcels"
        )
        print(
            f"  bbox query, raw SQL : median {rmed:6.1f} ms, p95 {rp95:6.1f} ms, "
            f"{rmean:,.0f} parcels  (ioc ÷ raw = {med / rmed:.2f})"
        )
        session.close()
        served = asyncio.run(serve(database, boxes))
        it3 = iter(boxes)

        def raw_geojson() -> int:
            found = query(next(it3))
            features = []
            for row in found:
                props = dict(zip(RAW_NAMES, row[:-1], strict=True))
                props["updated_at"] = str(props["updated_at"])
                geometry = orjson.Fragment(row[-1])
                features.append(
                    {"type": "Feature", "id": row[0], "geometry": geometry, "properties": props}
                )
            return len(orjson.dumps({"type": "FeatureCollection", "features": features})) and len(
                found
            )

        start = time.perf_counter()
        total = sum(raw_geojson() for _ in boxes)
        raw_rate = total / (time.perf_counter() - start)
        print(f"  GeoJSON served, /ogcapi : {served:9,.0f} items/s")
        print(
            f"  GeoJSON, raw SQL+orjson : {raw_rate:9,.0f} items/s  "
            f"(ioc ÷ raw = {served / raw_rate:.2f})"
        )
        raw.close()
        database.dispose()


async def serve(database: Database, boxes: list[tuple[float, float, float, float]]) -> float:
    app = create_app(Settings(database_url=database.url), database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        url = "/ogcapi/collections/parcels/items"
        await client.get(url, params={"bbox": ",".join(map(str, boxes[0])), "limit": PER_WINDOW})
        start, total = time.perf_counter(), 0
        for b in boxes:
            r = await client.get(url, params={"bbox": ",".join(map(str, b)), "limit": PER_WINDOW})
            total += orjson.loads(r.content)["numberReturned"]
        return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    for backend in ("postgresql", "sqlite") if args.backend == "both" else (args.backend,):
        run(backend, args.parcels, args.queries)


if __name__ == "__main__":
    main()
