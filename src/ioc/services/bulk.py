"""Writing validated dossiers in bulk: one lookup per chunk, then COPY or executemany.

The importer and the demo builder share this, so neither pays for an ORM object per row.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ioc.core.db import Base, UTCDateTime, utcnow
from ioc.core.events import emit
from ioc.core.workdays import VIETNAM_TZ
from ioc.services.models import Dossier
from ioc.services.service import on_time

TABLE = Base.metadata.tables[Dossier.__tablename__]
# Compared with the stored row to tell an update from a repeat.
FIELDS = (
    "procedure_code",
    "agency_code",
    "place_code",
    "district_code",
    "channel",
    "status",
    "received_at",
    "due_at",
    "paused_days",
    "completed_at",
    "on_time",
    "delivery",
    "rating",
)
INSERT_COLUMNS = ("code", "current_agency", "paused_at", "updated_at", *FIELDS)
_UPDATE = (
    update(TABLE)
    .where(TABLE.c.code == bindparam("b_code"))
    .values({name: bindparam(name) for name in (*FIELDS, "updated_at")})
)

Rows = list[dict[str, Any]]


def dossier_row(
    *,
    code: str,
    procedure_code: str,
    agency: str,
    place_code: str,
    district_code: str | None,
    channel: str,
    status: str,
    received_at: dt.datetime,
    due_at: dt.datetime,
    paused_days: int,
    completed_at: dt.datetime | None,
    delivery: str | None,
    rating: int | None,
) -> dict[str, Any]:
    """A dossier as ``write_chunk`` and ``insert_rows`` take it: with its agency the current
    one, no pause running, and on-time derived from completion and due date."""
    return {
        "code": code,
        "procedure_code": procedure_code,
        "agency_code": agency,
        "current_agency": agency,
        "place_code": place_code,
        "district_code": district_code,
        "channel": channel,
        "status": status,
        "received_at": received_at,
        "due_at": due_at,
        "paused_at": None,
        "paused_days": paused_days,
        "completed_at": completed_at,
        "on_time": on_time(completed_at, due_at, status),
        "delivery": delivery,
        "rating": rating,
    }


def write_chunk(session: Session, rows: Rows, *, dry_run: bool = False) -> tuple[Rows, Rows, Rows]:
    """Store new codes, update changed ones, skip repeats: (created, updated, rows before).

    The caller adds the rows to the daily summary (``ioc.services.daily``).
    """
    codes = [r["code"] for r in rows]
    if session.get_bind().dialect.name == "postgresql":  # one array parameter, not 5,000
        match = TABLE.c.code == any_(bindparam("codes", codes, type_=ARRAY(String())))
    else:
        match = TABLE.c.code.in_(codes)
    lookup = select(TABLE.c.code, *(TABLE.c[name] for name in FIELDS)).where(match)
    stored = {row.code: row._asdict() for row in session.execute(lookup)}
    created: Rows = []
    updated: Rows = []
    before: Rows = []
    for r in rows:
        old = stored.get(r["code"])
        if old is None:
            created.append(r)
        elif any(old[name] != r[name] for name in FIELDS):
            updated.append(r)
            before.append(old)
    if dry_run:
        return created, updated, before
    now = utcnow()
    if created:
        insert_rows(session, [r | {"updated_at": now} for r in created])
    if updated:
        session.execute(_UPDATE, [r | {"b_code": r["code"], "updated_at": now} for r in updated])
    return created, updated, before


def insert_rows(session: Session, rows: Rows) -> None:
    """New dossiers: COPY on PostgreSQL (the fastest path it has), executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        raw = connection.connection.driver_connection
        assert raw is not None
        names = ", ".join(INSERT_COLUMNS)
        with raw.cursor() as cursor, cursor.copy(f"COPY dossiers ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[name] for name in INSERT_COLUMNS))
        return
    if connection.dialect.name == "sqlite":
        _sqlite_insert(connection.connection.driver_connection, rows)
        return
    session.execute(insert(TABLE), rows)


def _sqlite_text(value: dt.datetime | None) -> str | None:
    """What ``UTCDateTime`` stores on SQLite: naive UTC text with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ", "microseconds")[:26]


TIME_COLUMNS = tuple(
    i for i, c in enumerate(INSERT_COLUMNS) if isinstance(TABLE.c[c].type, UTCDateTime)
)


def _sqlite_insert(raw: Any, rows: Rows) -> None:
    """executemany on the driver: SQLAlchemy's per-value processing would triple the time."""
    marks = ", ".join("?" for _ in INSERT_COLUMNS)
    sql = f"INSERT INTO dossiers ({', '.join(INSERT_COLUMNS)}) VALUES ({marks})"
    pick = operator.itemgetter(*INSERT_COLUMNS)
    data = []
    for r in rows:
        values = list(pick(r))
        for i in TIME_COLUMNS:
            values[i] = _sqlite_text(values[i])
        data.append(values)
    cache = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute("PRAGMA cache_size = -131072")  # 128 MiB while the indexes take the rows
    try:
        raw.executemany(sql, data)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(cache)}")


TALLY_SLICE = 5_000  # entries per event, so a message stays well under a broker's size limit


def tally(rows: Rows) -> tuple[list[list[Any]], list[list[Any]]]:
    """Received as [commune, local day, n]; resolved as [commune, day, status, on_time, n]."""
    received: Counter[tuple[Any, ...]] = Counter()
    resolved: Counter[tuple[Any, ...]] = Counter()
    days: dict[dt.datetime, str] = {}

    def day(moment: dt.datetime) -> str:
        # Dossiers of a day share few distinct instants per minute; convert each once.
        found = days.get(moment)
        if found is None:
            found = days[moment] = moment.astimezone(VIETNAM_TZ).date().isoformat()
        return found

    for r in rows:
        received[(r["place_code"], day(r["received_at"]))] += 1
        done = r["completed_at"]
        if done is not None:
            resolved[(r["place_code"], day(done), r["status"], r["on_time"])] += 1
    return (
        [[*k, n] for k, n in received.items()],
        [[*k, n] for k, n in resolved.items()],
    )


def emit_tallies(session: Session, rows: Rows, before: Sequence[dict[str, Any]] = ()) -> None:
    """``dossier.imported`` events: tallies of the rows written and of the rows they replaced.

    ``received`` holds [commune, day, n] and ``resolved`` [commune, day, status, on_time, n]
    (local days, ISO); a consumer adds them and subtracts ``replaced_received`` /
    ``replaced_resolved`` to keep its counts right without reading the dossiers table.
    """
    got, done = tally(rows)
    old_got, old_done = tally(list(before))
    parts = max(len(got), len(done), len(old_got), len(old_done))
    for i in range(0, parts, TALLY_SLICE):
        cut = slice(i, i + TALLY_SLICE)
        emit(
            session,
            "dossier.imported",
            {
                "rows": len(rows) if i == 0 else 0,
                "received": got[cut],
                "resolved": done[cut],
                "replaced_received": old_got[cut],
                "replaced_resolved": old_done[cut],
            },
        )
