"""Public-service dossiers at scale: the on-time query and the importer beside raw COPY.

A scratch database gets the demo province (places, agencies, the 273-procedure catalogue) and
``--rows`` dossiers (default 10 M on PostgreSQL: about 2.5 M a year over four years, ten times
Hòa Bình's volume, the size of a large province), written by one ``INSERT … SELECT`` over
``generate_series`` on PostgreSQL (the year generator of the demo on SQLite). Then:

* **query** — "on-time % by district for a quarter", answered by
  ``ioc.services.measures.on_time(session, q_start, q_end, by="district")`` exactly as the API
  and the indicators capability call it, ``--queries`` times over the quarters of the span;
  p50/p95 (target p95 < 100 ms);
* **import** — ``--import-rows`` dossiers (default 1 M) as a one-stop-shop CSV export, imported
  by ``ioc.services.importer.import_file`` (parse, validate every row against the catalogue,
  the communes and the agencies, compute due dates in working days, look up existing codes,
  COPY the new rows, emit tally events, audit) into an empty dossiers table, beside a raw
  ``COPY dossiers FROM STDIN`` of the same rows already in their final form (no parsing, no
  checks); the ratio is the importer's speed as a share of COPY's (target ≥ 30 %).

    python bench/indicators.py [--db postgresql|sqlite] [--rows N] [--import-rows N]
                               [--queries 50]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import statistics
import time
from typing import Any

from scratch import scratch_database
from sqlalchemy import delete, text

from ioc.core import agencies, places
from ioc.core.db import Database, utcnow
from ioc.core.migrate import upgrade
from ioc.core.models import OutboxEvent
from ioc.core.workdays import VIETNAM_TZ
from ioc.services import daily, importer
from ioc.services.bulk import INSERT_COLUMNS, insert_rows
from ioc.services.catalogue import seed_catalogue
from ioc.services.demo import Year
from ioc.services.measures import on_time
from ioc.services.models import Dossier, DossierDaily

YEARS = 4
START = dt.datetime(2022, 1, 1, tzinfo=VIETNAM_TZ)

FILL_SQL = """
INSERT INTO dossiers (code, procedure_code, agency_code, current_agency, place_code,
                      district_code, channel, status, received_at, due_at, paused_days,
                      completed_at, on_time, delivery, updated_at)
SELECT 'B' || g, p.code, p.agency, p.agency, c.code, c.district,
       (ARRAY['online', 'one_stop_desk', 'post'])[1 + (g * 7) % 3],
       CASE WHEN g % 50 = 0 THEN 'processing' ELSE 'completed' END,
       r, r + interval '7 days', 0,
       CASE WHEN g % 50 = 0 THEN NULL
            WHEN (g * 13) % 100 < 97 THEN r + interval '1 hour' * (1 + (g * 17) % 160)
            ELSE r + interval '1 day' * (8 + g % 5) END,
       CASE WHEN g % 50 = 0 THEN NULL ELSE (g * 13) % 100 < 97 END,
       'desk', now()
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
CROSS JOIN LATERAL (
    SELECT :start + (g::float8 / :n) * (:span * interval '1 second') AS r
) AS t
JOIN (SELECT row_number() OVER (ORDER BY code) - 1 AS i, code, parent_code AS district
      FROM places WHERE level = 'commune') AS c ON c.i = (g * 2654435761) % :communes
JOIN (SELECT row_number() OVER (ORDER BY code) - 1 AS i, code, agency_code AS agency
      FROM service_procedures) AS p ON p.i = (g * 40503) % :procedures
"""


def prepare(database: Database) -> None:
    upgrade(database)
    with database.session("bench") as session:
        province = places.load_province(session, "Hòa Bình", tree="legacy").province
        agencies.seed_province(session, province.code)
        seed_catalogue(session)


def fill(database: Database, rows: int) -> float:
    """``rows`` dossiers spread over four years; seconds taken (then ANALYZE)."""
    started = time.perf_counter()
    with database.session("bench") as session:
        if session.get_bind().dialect.name == "postgresql":
            communes = session.scalar(text("SELECT count(*) FROM places WHERE level='commune'"))
            procedures = session.scalar(text("SELECT count(*) FROM service_procedures"))
            span = (START.replace(year=START.year + YEARS) - START).total_seconds()
            step = 1_000_000
            for first in range(1, rows + 1, step):
                last = min(rows, first + step - 1)
                session.execute(
                    text(FILL_SQL),
                    {
                        "first": first,
                        "last": last,
                        "n": rows,
                        "start": START,
                        "span": span,
                        "communes": communes,
                        "procedures": procedures,
                    },
                )
                session.commit()
                print(f"  filled {last:,} / {rows:,}", flush=True)
        else:
            year = Year(session, now=utcnow(), days=365 * YEARS, per_year=rows // YEARS)
            made = year.dossiers()
            stamp = utcnow()
            for i in range(0, len(made), 50_000):
                insert_rows(session, [r | {"updated_at": stamp} for r in made[i : i + 50_000]])
    with database.session("bench") as session:
        summary = daily.rebuild(session)  # the SQL load went behind the write paths' backs
    print(f"  daily summary rebuilt: {summary:,} rows", flush=True)
    with database.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - started


def quarters() -> list[tuple[dt.date, dt.date]]:
    out = []
    for year in range(START.year, START.year + YEARS):
        for q in range(4):
            first = dt.date(year, 3 * q + 1, 1)
            after = dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)
            out.append((first, after - dt.timedelta(days=1)))
    return out


def bench_query(database: Database, n: int) -> list[float]:
    spans = quarters()
    timings: list[float] = []
    with database.session() as session:
        for first, last in spans[:2]:  # warm the cache as a running server would be
            on_time(session, first, last, by="district")
        for i in range(n):
            first, last = spans[i % len(spans)]
            started = time.perf_counter()
            rows = on_time(session, first, last, by="district")
            timings.append(time.perf_counter() - started)
            assert len(rows) == 10, rows  # Hòa Bình's ten districts
    return timings


def export(database: Database, rows: int) -> tuple[bytes, list[dict[str, Any]]]:
    """A CSV export of ``rows`` dossiers, and the same rows as the importer would store them."""
    with database.session() as session:
        year = Year(session, now=utcnow(), days=365, per_year=rows)
        made = year.dossiers()[:rows]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "code",
            "procedure_code",
            "place_code",
            "channel",
            "received_at",
            "status",
            "completed_at",
            "paused_days",
            "delivery",
            "rating",
        ]
    )
    for r in made:
        r["code"] = "I" + r["code"]
        done = r["completed_at"]
        writer.writerow(
            [
                r["code"],
                r["procedure_code"],
                r["place_code"],
                r["channel"],
                r["received_at"].isoformat(),
                r["status"],
                done.isoformat() if done else "",
                r["paused_days"],
                r["delivery"] or "",
                r["rating"] or "",
            ]
        )
    return out.getvalue().encode(), made


def empty(database: Database) -> None:
    """No dossiers, steps or events: each timed load starts from the same empty table."""
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("TRUNCATE dossier_steps, dossiers, dossier_daily, events RESTART IDENTITY")
            )
        else:
            conn.execute(delete(Dossier))
            conn.execute(delete(DossierDaily))
            conn.execute(delete(OutboxEvent))


def raw_copy(database: Database, made: list[dict[str, Any]]) -> float:
    """COPY of the final rows straight into the table: the floor of what a load can cost."""
    stamp = utcnow()
    rows = [tuple(r[c] if c != "updated_at" else stamp for c in INSERT_COLUMNS) for r in made]
    raw = database.engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            names = ", ".join(INSERT_COLUMNS)
            with cursor.copy(f"COPY dossiers ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def bench_import(database: Database, rows: int) -> tuple[float, float | None]:
    data, made = export(database, rows)
    empty(database)
    with database.session("bench") as session:
        started = time.perf_counter()
        report = importer.import_file(session, data, "csv")
        session.commit()
        ioc = time.perf_counter() - started
    assert report.created == rows and not report.errors, report.errors[:5]
    if database.engine.dialect.name != "postgresql":
        return ioc, None
    empty(database)
    return ioc, raw_copy(database, made)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--rows", type=int, default=None, help="dossiers for the query")
    parser.add_argument("--import-rows", type=int, default=None)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    pg = args.db == "postgresql"
    rows = args.rows or (10_000_000 if pg else 1_000_000)
    import_rows = args.import_rows or (1_000_000 if pg else 200_000)
    with scratch_database(args.db) as url:
        database = Database(url)
        prepare(database)
        seconds = fill(database, rows)
        print(f"{args.db}: {rows:,} dossiers written in {seconds:.1f} s")
        timings = sorted(bench_query(database, args.queries))
        p50 = statistics.median(timings) * 1000
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)] * 1000
        verdict = "OK" if p95 < 100 else "over target"
        print(
            f"on-time % by district for a quarter: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"over {len(timings)} queries (target p95 < 100 ms: {verdict})"
        )
        empty(database)
        ioc, copy = bench_import(database, import_rows)
        print(
            f"import of {import_rows:,} dossiers (CSV): ioc {ioc:.1f} s "
            f"({import_rows / ioc:,.0f}/s)"
        )
        if copy is not None:
            share = copy / ioc * 100
            print(
                f"raw COPY of the same rows: {copy:.1f} s ({import_rows / copy:,.0f}/s); "
                f"ioc runs at {share:.0f} % of COPY's speed (target ≥ 30 %: "
                f"{'OK' if share >= 30 else 'under target'})"
            )
        database.dispose()


if __name__ == "__main__":
    main()
