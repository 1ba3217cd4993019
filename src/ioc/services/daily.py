"""The daily summary of resolved dossiers, maintained incrementally by every write path.

Each write adds (or, for a re-imported dossier, first subtracts) its contribution to
``dossier_daily`` in the same transaction: +1 resolved (and +1 on time) on the local day of
the result, in the dossier's commune. ``rebuild`` recomputes it from the dossiers, for data
loaded behind ioc's back (a restore, a bulk SQL load).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Date, case, cast, delete, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ioc.core.db import Base
from ioc.core.workdays import VIETNAM_TZ
from ioc.services.models import Dossier, DossierDaily

TABLE = Base.metadata.tables[DossierDaily.__tablename__]
Key = tuple[dt.date, str, str | None]


class Deltas:
    """Changes to the summary gathered over many rows, written with one upsert at the end."""

    def __init__(self) -> None:
        self.resolved: Counter[Key] = Counter()
        self.on_time: Counter[Key] = Counter()
        self._days: dict[dt.datetime, dt.date] = {}

    def add(self, rows: Iterable[Mapping[str, Any]], sign: int = 1) -> None:
        days = self._days
        for r in rows:
            done, ok = r["completed_at"], r["on_time"]
            if done is None or ok is None:
                continue
            day = days.get(done)
            if day is None:
                day = days[done] = done.astimezone(VIETNAM_TZ).date()
            key = (day, r["place_code"], r["district_code"])
            self.resolved[key] += sign
            if ok:
                self.on_time[key] += sign

    def write(self, session: Session) -> None:
        values = [
            {
                "day": k[0],
                "place_code": k[1],
                "district_code": k[2],
                "resolved": n,
                "on_time": self.on_time[k],
            }
            for k, n in self.resolved.items()
            if n or self.on_time[k]
        ]
        self.resolved.clear()
        self.on_time.clear()
        if not values:
            return
        dialect = session.get_bind().dialect.name
        stmt = postgresql.insert(TABLE) if dialect == "postgresql" else sqlite.insert(TABLE)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "place_code"],
            set_={
                "resolved": TABLE.c.resolved + stmt.excluded.resolved,
                "on_time": TABLE.c.on_time + stmt.excluded.on_time,
            },
        )
        session.execute(stmt, values)


def apply(
    session: Session,
    rows: Iterable[Mapping[str, Any]],
    removed: Iterable[Mapping[str, Any]] = (),
) -> None:
    """Add ``rows`` and subtract ``removed`` (their earlier state) in one upsert."""
    deltas = Deltas()
    deltas.add(rows)
    deltas.add(removed, -1)
    deltas.write(session)


def local_day(session: Session, column: Any) -> Any:
    """The local (Asia/Ho_Chi_Minh) calendar day of a stored UTC timestamp, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Ho_Chi_Minh", column), Date)
    return func.date(column, literal_column("'+7 hours'"))


def rebuild(session: Session) -> int:
    """Recompute the whole summary from the dossiers; returns its row count."""
    day = local_day(session, Dossier.completed_at)
    session.execute(delete(TABLE))
    session.execute(
        insert(TABLE).from_select(
            ["day", "place_code", "district_code", "resolved", "on_time"],
            select(
                day,
                Dossier.place_code,
                func.min(Dossier.district_code),
                func.count(Dossier.on_time),
                func.sum(case((Dossier.on_time.is_(True), 1), else_=0)),
            )
            .where(Dossier.on_time.is_not(None))
            .group_by(day, Dossier.place_code),
        )
    )
    return session.scalar(select(func.count()).select_from(TABLE)) or 0
