"""On-time %, resolved, late, received, in progress: computed in SQL over the dossiers.

A dossier counts as *resolved* in the period its result was given (completed or rejected,
as the one-stop-shop reports count "đã giải quyết"), *on time* if that was by its due date
(extended by supplement waits). Periods are local (Asia/Ho_Chi_Minh) calendar days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.orm import Session

from ioc.core.models import Agency, Place
from ioc.core.workdays import VIETNAM_TZ
from ioc.services.models import Dossier, DossierDaily, ServiceProcedure
from ioc.services.procedure_data import SECTORS

By = Literal["district", "commune", "agency", "procedure", "sector", "period", "province"]
Period = Literal["month", "quarter", "year"]
BYS: tuple[str, ...] = (
    "district",
    "commune",
    "agency",
    "procedure",
    "sector",
    "period",
    "province",
)


@dataclass(frozen=True, slots=True)
class OnTime:
    """Resolved dossiers of one group and how many of them were on time."""

    key: str | None
    resolved: int
    on_time: int

    @property
    def late(self) -> int:
        return self.resolved - self.on_time

    @property
    def on_time_pct(self) -> float | None:
        return round(100 * self.on_time / self.resolved, 2) if self.resolved else None


@dataclass(frozen=True, slots=True)
class Measure:
    key: str | None
    name: str | None
    received: int
    resolved: int
    on_time: int
    late: int
    in_progress: int
    on_time_pct: float | None


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of local midnight starting ``start`` and ending ``end`` (inclusive)."""
    first = dt.datetime.combine(start, dt.time(), tzinfo=VIETNAM_TZ).astimezone(dt.UTC)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=VIETNAM_TZ)
    return first, after.astimezone(dt.UTC)


def _period(session: Session, ts: Any, period: Period) -> ColumnElement[str]:
    """The local month ('2025-03'), quarter ('2025-Q1') or year of a timestamp, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("Asia/Ho_Chi_Minh", ts)
        fmt = {"month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[period]
        return func.to_char(local, fmt)
    if period == "quarter":
        month = cast(func.strftime("%m", ts, "+7 hours"), Integer)
        return (
            func.strftime("%Y", ts, "+7 hours").concat("-Q").concat(cast((month + 2) / 3, Integer))
        )
    return func.strftime("%Y-%m" if period == "month" else "%Y", ts, "+7 hours")


def _key(session: Session, by: str, ts: Any, period: Period) -> Any:
    if by == "period":
        return _period(session, ts, period)
    columns = {
        "district": Dossier.district_code,
        "commune": Dossier.place_code,
        "agency": Dossier.agency_code,
        "procedure": Dossier.procedure_code,
        "sector": ServiceProcedure.sector,
        "province": literal(None),
    }
    return columns[by]


def _join(stmt: Any, by: str) -> Any:
    if by == "sector":
        return stmt.select_from(Dossier).join(
            ServiceProcedure, ServiceProcedure.code == Dossier.procedure_code
        )
    return stmt.select_from(Dossier)


def on_time(
    session: Session,
    period_start: dt.date,
    period_end: dt.date,
    *,
    by: By = "district",
    period: Period = "month",
    where: ColumnElement[bool] | None = None,
) -> list[OnTime]:
    """On-time resolution of the dossiers resolved from ``period_start`` to ``period_end``.

    The indicators capability calls this for "tỷ lệ hồ sơ giải quyết đúng hạn": one row per
    district (or commune, agency, procedure, sector, month/quarter/year with ``by="period"``,
    or one row with key None for ``by="province"``), keys sorted; ``where`` narrows the
    dossiers (e.g. a caller's scope). Both days are included. Without ``where``, by place or
    period, it reads the daily summary (``ioc.services.daily``) rather than the dossiers.
    """
    if where is None and by in SUMMARISED:
        return _on_time_daily(session, period_start, period_end, by, period)
    first, after = bounds(period_start, period_end)
    key = _key(session, by, Dossier.completed_at, period).label("key")
    stmt = select(
        key,
        func.count(Dossier.on_time),
        func.coalesce(func.sum(case((Dossier.on_time == true(), 1), else_=0)), 0),
    ).where(
        Dossier.completed_at >= first,
        Dossier.completed_at < after,
        where if where is not None else true(),
    )
    rows = session.execute(_join(stmt, by).group_by(key).order_by(key))
    return [OnTime(k, int(resolved), int(ok)) for k, resolved, ok in rows]


SUMMARISED = frozenset({"district", "commune", "province", "period"})


def _on_time_daily(
    session: Session, start: dt.date, end: dt.date, by: str, period: Period
) -> list[OnTime]:
    """The same answer from the daily summary: a few rows per commune and day."""
    t = DossierDaily
    key: Any
    if by == "period":
        if session.get_bind().dialect.name == "postgresql":
            fmt = {"month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[period]
            key = func.to_char(t.day, fmt)
        elif period == "quarter":
            month = cast(func.strftime("%m", t.day), Integer)
            key = func.strftime("%Y", t.day).concat("-Q").concat(cast((month + 2) / 3, Integer))
        else:
            key = func.strftime("%Y-%m" if period == "month" else "%Y", t.day)
    else:
        key = {"district": t.district_code, "commune": t.place_code, "province": literal(None)}[by]
    key = key.label("key")
    rows = session.execute(
        select(key, func.sum(t.resolved), func.sum(t.on_time))
        .where(t.day >= start, t.day <= end)
        .group_by(key)
        .order_by(key)
    )
    return [OnTime(k, int(n), int(ok)) for k, n, ok in rows if n]


def measures(
    session: Session,
    period_start: dt.date,
    period_end: dt.date,
    *,
    by: By = "district",
    period: Period = "month",
    where: ColumnElement[bool] | None = None,
) -> list[Measure]:
    """Received, resolved, on time, late and in progress (at the period's end), per group.

    With ``by="period"``, received counts by the period of receipt, resolved by the period of
    the result, and in progress counts dossiers received in that period still open at the end.
    """
    first, after = bounds(period_start, period_end)
    scope = where if where is not None else true()
    received_key = _key(session, by, Dossier.received_at, period).label("key")
    received = session.execute(
        _join(select(received_key, func.count()), by)
        .where(Dossier.received_at >= first, Dossier.received_at < after, scope)
        .group_by(received_key)
    ).all()
    open_at_end = and_(
        Dossier.received_at < after,
        or_(Dossier.completed_at.is_(None), Dossier.completed_at >= after),
    )
    pending = session.execute(
        _join(select(received_key, func.count()), by)
        .where(open_at_end, scope)
        .where(Dossier.received_at >= first if by == "period" else true())
        .group_by(received_key)
    ).all()
    resolved = {
        r.key: r
        for r in on_time(session, period_start, period_end, by=by, period=period, where=where)
    }
    got = {k: int(n) for k, n in received}
    open_ = {k: int(n) for k, n in pending}
    names = _names(session, by)
    out: list[Measure] = []
    for k in sorted(set(got) | set(open_) | set(resolved), key=lambda v: (v is None, v or "")):
        r = resolved.get(k, OnTime(k, 0, 0))
        out.append(
            Measure(
                key=k,
                name=names.get(k) if k is not None else None,
                received=got.get(k, 0),
                resolved=r.resolved,
                on_time=r.on_time,
                late=r.late,
                in_progress=open_.get(k, 0),
                on_time_pct=r.on_time_pct,
            )
        )
    return out


def _names(session: Session, by: str) -> dict[str, str]:
    if by in ("district", "commune"):
        return dict(session.execute(select(Place.code, Place.name).where(Place.level == by)).all())
    if by == "agency":
        return dict(session.execute(select(Agency.code, Agency.name)).all())
    if by == "procedure":
        return dict(session.execute(select(ServiceProcedure.code, ServiceProcedure.name)).all())
    if by == "sector":
        return {s.code: s.vi for s in SECTORS}
    return {}
