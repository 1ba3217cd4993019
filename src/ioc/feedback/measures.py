"""Measures of the feedback work, computed from the requests themselves, never from stored totals.

A report covers the requests *received* in the chosen days (Vietnam time) and inside the
caller's scope, and says for them: how many are settled, how many on time (settled no later
than due), how satisfied the citizens who rated were, how long settling took (median hours and
median working days), and how many are still open past their due time now. Counts come from
one SQL aggregate query; the medians from one narrow query of the settled requests' two
timestamps, since working days need the holiday calendar and SQLite has no median.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import QueryableAttribute, Session

from ioc.core.db import utcnow
from ioc.core.models import Agency, Place
from ioc.core.problems import Invalid
from ioc.core.workdays import VIETNAM_TZ, default_calendar
from ioc.feedback.models import (
    SETTLED_STATUSES,
    FeedbackRequest,
    FeedbackService,
)
from ioc.feedback.queue import day_bounds, overdue_clause

GROUPINGS = ("period", "district", "commune", "agency", "service", "channel")
PERIODS = ("day", "week", "month", "quarter")
UNKNOWN = "(không xác định)"
Column = ColumnElement[Any] | QueryableAttribute[Any]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


@dataclass
class Measures:
    """The measures of one group of requests; percentages and medians are None when undefined."""

    received: int = 0
    settled: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    overdue_open: int = 0
    hours: list[float] = field(default_factory=list, repr=False)
    working_days: list[float] = field(default_factory=list, repr=False)

    def add(self, other: Measures) -> None:
        self.received += other.received
        self.settled += other.settled
        self.on_time += other.on_time
        self.rated += other.rated
        self.satisfied += other.satisfied
        self.overdue_open += other.overdue_open
        self.hours += other.hours
        self.working_days += other.working_days

    @property
    def settled_pct(self) -> float | None:
        return _pct(self.settled, self.received)

    @property
    def on_time_pct(self) -> float | None:
        """Of the settled requests, those settled by their due time."""
        return _pct(self.on_time, self.settled)

    @property
    def satisfaction_pct(self) -> float | None:
        """Of the rated requests, those rated 4 or 5."""
        return _pct(self.satisfied, self.rated)

    @property
    def median_hours_to_settle(self) -> float | None:
        return _median(self.hours)

    @property
    def median_working_days_to_settle(self) -> float | None:
        return _median(self.working_days)


@dataclass(frozen=True)
class Group:
    key: str | None
    name: str
    measures: Measures


@dataclass(frozen=True)
class Report:
    by: str
    period: str | None
    start: dt.date | None
    end: dt.date | None
    total: Measures
    groups: list[Group]


def period_key(dialect: str, period: str, column: Column) -> ColumnElement[str]:
    """The local day, week (its Monday), month or quarter of a timestamp, as sortable text."""
    if dialect == "postgresql":
        local = func.timezone(literal_column(f"'{VIETNAM_TZ.key}'"), column)
        formats = {
            "day": (local, "YYYY-MM-DD"),
            "week": (func.date_trunc(literal_column("'week'"), local), "YYYY-MM-DD"),
            "month": (local, "YYYY-MM"),
            "quarter": (local, 'YYYY-"Q"Q'),
        }
        value, fmt = formats[period]
        return func.to_char(value, literal_column(f"'{fmt}'"))
    # SQLite keeps UTC text; Vietnam has kept UTC+7 without daylight saving since 1975.
    offset = VIETNAM_TZ.utcoffset(dt.datetime(2000, 1, 1))
    assert offset is not None
    shift: ColumnElement[Any] = literal_column(f"'+{int(offset.total_seconds() // 3600)} hours'")
    if period == "day":
        return func.date(column, shift)
    if period == "week":  # the Sunday on or after, less six days: the Monday
        return func.date(column, shift, literal_column("'weekday 0'"), literal_column("'-6 days'"))
    if period == "month":
        return func.strftime(literal_column("'%Y-%m'"), column, shift)
    month = cast(func.strftime(literal_column("'%m'"), column, shift), Integer)
    quarter = cast((month + 2) // 3, String)
    return func.strftime(literal_column("'%Y'"), column, shift).concat("-Q").concat(quarter)


def period_of(day: dt.date, period: str) -> str:
    """The key :func:`period_key` gives a timestamp of this local day."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    if period == "month":
        return f"{day.year:04}-{day.month:02}"
    return f"{day.year:04}-Q{(day.month + 2) // 3}"


def _first_day(key: str, period: str) -> dt.date:
    if period in ("day", "week"):
        return dt.date.fromisoformat(key)
    if period == "month":
        return dt.date(int(key[:4]), int(key[5:7]), 1)
    return dt.date(int(key[:4]), 3 * int(key[-1]) - 2, 1)


def _all_periods(first: dt.date, last: dt.date, period: str) -> list[str]:
    """Every period from the one holding ``first`` to the one holding ``last``, in order."""
    keys: list[str] = []
    day = first
    while day <= last:
        key = period_of(day, period)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += dt.timedelta(days=1)
    return keys


def _fine_key(session: Session, by: str, period: str) -> Column:
    """The SQL column results are grouped by; places roll up to districts in Python."""
    if by == "period":
        return period_key(session.get_bind().dialect.name, period, FeedbackRequest.requested_at)
    column = {
        "district": FeedbackRequest.place_code,
        "commune": FeedbackRequest.place_code,
        "agency": FeedbackRequest.agency_code,
        "service": FeedbackRequest.service_code,
        "channel": FeedbackRequest.channel,
    }[by]
    return column


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _groups(
    session: Session,
    where: list[ColumnElement[bool]],
    key: Column,
    now: dt.datetime,
    medians: bool = True,
) -> dict[str | None, Measures]:
    settled = and_(
        FeedbackRequest.status.in_(sorted(SETTLED_STATUSES)),
        FeedbackRequest.settled_at.is_not(None),
    )
    on_time = and_(settled, FeedbackRequest.settled_at <= FeedbackRequest.expected_at)
    k = key.label("k")
    counts = select(
        k,
        func.count(),
        _count(settled),
        _count(on_time),
        func.count(FeedbackRequest.rating),
        _count(FeedbackRequest.rating >= 4),
        _count(overdue_clause(now)),
    ).where(*where)
    out: dict[str | None, Measures] = {}
    for row in session.execute(counts.group_by(k)):
        received, settled_n, on_time_n, rated, satisfied, overdue = (int(v) for v in row[1:])
        out[row[0]] = Measures(received, settled_n, on_time_n, rated, satisfied, overdue)
    if not medians:
        return out
    calendar = default_calendar()
    spans = select(k, FeedbackRequest.requested_at, FeedbackRequest.settled_at).where(
        *where, settled
    )
    for group, start, end in session.execute(spans):
        if end is None:  # excluded by the query; this tells the type checker
            continue
        measures = out.setdefault(group, Measures())
        measures.hours.append((end - start).total_seconds() / 3600)
        measures.working_days.append(calendar.working_days_between(start, end))
    return out


def _place_rollup(session: Session, codes: Iterable[str | None], level: str) -> dict[str, Place]:
    """Each place code's ancestor (or itself) at ``level``."""
    known = [c for c in codes if c]
    places = {p.code: p for p in session.scalars(select(Place).where(Place.code.in_(known)))}
    ancestors = {code for p in places.values() for code in p.path.split("/")}
    at_level = {
        p.code: p
        for p in session.scalars(
            select(Place).where(Place.code.in_(sorted(ancestors)), Place.level == level)
        )
    }
    out: dict[str, Place] = {}
    for code, place in places.items():
        hit = next((at_level[c] for c in place.path.split("/") if c in at_level), None)
        if hit is not None:
            out[code] = hit
    return out


def _names(session: Session, by: str, keys: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted(k for k in keys if k)
    if by == "agency":
        rows = session.execute(select(Agency.code, Agency.name).where(Agency.code.in_(wanted)))
    elif by == "service":
        rows = session.execute(
            select(FeedbackService.code, FeedbackService.name).where(
                FeedbackService.code.in_(wanted)
            )
        )
    elif by in ("district", "commune"):
        rows = session.execute(select(Place.code, Place.name).where(Place.code.in_(wanted)))
    else:
        return {k: k for k in wanted}
    return {code: name for code, name in rows}


def _fill_periods(
    fine: dict[str | None, Measures],
    period: str,
    start: dt.date | None,
    end: dt.date | None,
    now: dt.datetime,
) -> None:
    """Add a zero group for each period between the bounds (or the data's) that has none."""
    keys = [k for k in fine if k]
    if start is None and not keys:
        return
    first = start or _first_day(min(keys), period)
    last = end or now.astimezone(VIETNAM_TZ).date()
    if keys:
        last = max(last, _first_day(max(keys), period))
    for key in _all_periods(first, last, period):
        fine.setdefault(key, Measures())


def _received_between(
    scope: ColumnElement[bool], start: dt.date | None, end: dt.date | None
) -> list[ColumnElement[bool]]:
    lower, upper = day_bounds(start, end)
    where = [scope]
    if lower is not None:
        where.append(FeedbackRequest.requested_at >= lower)
    if upper is not None:
        where.append(FeedbackRequest.requested_at < upper)
    return where


def counts_by_place(
    session: Session,
    scope: ColumnElement[bool],
    start: dt.date,
    end: dt.date,
    now: dt.datetime | None = None,
) -> dict[str | None, Measures]:
    """The counts (no medians) of the requests inside ``scope`` received from ``start`` to
    ``end``, by the place code each request carries (its commune, or coarser when unknown).

    One grouped query answers for every place of a tree at once: a caller rolls the codes up
    to districts and the province itself, as the indicators do for a whole period.
    """
    where = _received_between(scope, start, end)
    return _groups(session, where, FeedbackRequest.place_code, now or utcnow(), medians=False)


def compute(
    session: Session,
    scope: ColumnElement[bool],
    *,
    by: str = "period",
    period: str = "month",
    start: dt.date | None = None,
    end: dt.date | None = None,
    now: dt.datetime | None = None,
    medians: bool = True,
) -> Report:
    """The measures of the requests inside ``scope`` received from ``start`` to ``end``.

    ``medians=False`` leaves the medians out (None): they need every settled request's
    timestamps and the holiday calendar, while the counts are one SQL aggregate — what a
    caller wanting only counts and percentages (the indicators) should ask for.
    """
    if by not in GROUPINGS:
        raise Invalid("by", f"choose from {', '.join(GROUPINGS)}")
    if period not in PERIODS:
        raise Invalid("period", f"choose from {', '.join(PERIODS)}")
    where = _received_between(scope, start, end)
    fine = _groups(session, where, _fine_key(session, by, period), now or utcnow(), medians)
    if by in ("district", "commune"):
        rollup = _place_rollup(session, fine, by)
        grouped: dict[str | None, Measures] = {}
        for code, measures in fine.items():
            place = rollup.get(code) if code else None
            grouped.setdefault(place.code if place else None, Measures()).add(measures)
        fine = grouped
    if by == "period":  # a chart needs the empty periods too, as zeros
        _fill_periods(fine, period, start, end, now or utcnow())
    total = Measures()
    for measures in fine.values():
        total.add(measures)
    names = _names(session, by, fine)
    groups = [Group(k, names.get(k, UNKNOWN) if k else UNKNOWN, m) for k, m in fine.items()]
    if by == "period":
        groups.sort(key=lambda g: g.key or "")
    else:
        groups.sort(key=lambda g: (-g.measures.received, g.key is None, g.key or ""))
    return Report(by, period if by == "period" else None, start, end, total, groups)
