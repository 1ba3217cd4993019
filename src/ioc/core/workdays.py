"""Vietnam's working-day calendar, so SLA due dates and elapsed times skip weekends and holidays.

Days off come from the ``holidays`` package (``country_holidays("VN")``, pinned 0.109), which
follows the public sector's calendar (civil servants; private employers may differ). Checked
against 2024-2026, it covers:

* the statutory days of the Labour Code 2019 art. 112: 1/1, Tết Nguyên Đán (eve + days 1-4,
  with the Tết days falling on a weekend moved to the nearest weekdays, which reproduces the
  Government's 7/9-day Tết schedules: 8-14 Feb 2024, 27 Jan-1 Feb 2025 (with the weekends,
  25 Jan-2 Feb), 16-20 Feb 2026 (with the weekends, 14-22 Feb)), Hùng Kings' day (10/3 lunar),
  30/4, 1/5, 2/9 plus the day before or after it (3 Sep 2024, 1 Sep 2025, 1 Sep 2026), and
  Vietnam Cultural Day 24/11 from 2026;
* compensatory days when a holiday falls on a weekend (e.g. Mon 27 Apr 2026 for Hùng Kings');
* the Government's day swaps that the package knows, both halves: the day off (Mon 29 Apr 2024,
  Fri 2 May 2025, Mon 31 Aug 2026) and the Saturday worked for it (4 May 2024, 26 Apr 2025,
  22 Aug 2026, read from ``weekend_workdays``).

Not covered: swaps or one-off days off the Government announces after the package's release
(later years' swaps are unknown; their Tết spans are computed by rule, not taken from the
announcement), provincial days off, and anything of the private sector. Operators add those as
``extra_days_off`` / ``extra_working_days``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import holidays

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_END = time(17, 0)


@lru_cache(maxsize=256)
def public_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """The package's days off and make-up working Saturdays in ``year``, computed once a year."""
    # A swap can cross New Year (a 2018 day off repaid on 5 Jan 2019), so ask the neighbours too.
    vn = holidays.country_holidays("VN", years=range(year - 1, year + 2))
    off = frozenset(d for d in vn if d.year == year)
    worked = frozenset(d for d in vn.weekend_workdays if d.year == year)
    return off, worked


@dataclass(frozen=True, slots=True)
class _Year:
    """One year's working days: ``rank[i]`` counts those from 1 Jan to day ``i`` inclusive."""

    year: int
    first: int
    rank: list[int]
    ordinals: list[int]


class WorkCalendar:
    """Monday-Friday minus public holidays, with the operators' own days off and make-up days."""

    def __init__(
        self,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        *,
        day_end: time = DAY_END,
        tz: tzinfo = VIETNAM_TZ,
    ) -> None:
        self._off = frozenset(extra_days_off)
        self._worked = frozenset(extra_working_days)
        if clash := self._off & self._worked:
            raise ValueError(f"dates both off and worked: {sorted(clash)}")
        self.day_end = day_end
        self.tz = tz
        self._years: dict[int, _Year] = {}
        self._due: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def is_working_day(self, d: date) -> bool:
        """Whether offices are open on ``d``."""
        year = self._year(d.year)
        i = d.toordinal() - year.first
        return year.rank[i] != (year.rank[i - 1] if i else 0)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return date.fromordinal(self._nth_after(d, 1))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """When something received at ``start`` with ``days`` working days falls due, in UTC.

        Due is ``day_end`` local time on the ``days``-th working day after the local day of
        receipt, whatever the hour of receipt: Friday afternoon + 1 is Monday 17:00, and a
        Saturday or holiday receipt counts from the next working day (Saturday + 1 is Monday).
        ``days=0`` is the end of the day of receipt itself. The result is in UTC, as stored.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        ordinal = self._nth_after(self._local_date(start), days)
        due = self._due.get(ordinal)
        if due is None:
            local = datetime.combine(date.fromordinal(ordinal), self.day_end, tzinfo=self.tz)
            due = self._due[ordinal] = local.astimezone(UTC)
        return due

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after the local day of ``start`` up to and including the day of ``end``.

        The inverse of ``add_working_days``: ``working_days_between(s, add_working_days(s, n))``
        is ``n``, so a case closed on the day it was received took 0 working days, and one closed
        on the next working day (at any hour) took 1. Negative when ``end`` precedes ``start``.
        """
        first, last = self._local_date(start), self._local_date(end)
        if last < first:
            return -self._count(last, first)
        return self._count(first, last)

    def _count(self, first: date, last: date) -> int:
        """Working days in the half-open span (``first``, ``last``]."""
        year = self._year(first.year)
        total = -year.rank[first.toordinal() - year.first]
        for y in range(first.year, last.year):
            total += len(self._year(y).ordinals)
        year = self._year(last.year)
        return total + year.rank[last.toordinal() - year.first]

    def _nth_after(self, d: date, n: int) -> int:
        """The ordinal of the ``n``-th working day after ``d``; ``d`` itself when ``n`` is 0."""
        ordinal = d.toordinal()
        if n == 0:
            return ordinal
        year = self._year(d.year)
        k = year.rank[ordinal - year.first] + n
        while k > len(year.ordinals):
            k -= len(year.ordinals)
            year = self._year(year.year + 1)
        return year.ordinals[k - 1]

    def _local_date(self, moment: datetime) -> date:
        """The calendar day ``moment`` falls on in the calendar's zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a timezone-aware datetime is required")
        return moment.astimezone(self.tz).date()

    def _year(self, y: int) -> _Year:
        """The year's table, built on first use."""
        year = self._years.get(y)
        if year is None:
            with self._lock:
                year = self._years.get(y) or self._build(y)
                self._years[y] = year
        return year

    def _build(self, y: int) -> _Year:
        """Rank every day of ``y``: weekdays, less holidays, plus make-up days, then overrides."""
        off, worked = public_days(y)
        first = date(y, 1, 1).toordinal()
        rank: list[int] = []
        ordinals: list[int] = []
        for ordinal in range(first, date(y, 12, 31).toordinal() + 1):
            d = date.fromordinal(ordinal)
            if d in self._worked or (
                d not in self._off and d not in off and (d.weekday() < 5 or d in worked)
            ):
                ordinals.append(ordinal)
            rank.append(len(ordinals))
        return _Year(y, first, rank, ordinals)


@cache
def default_calendar() -> WorkCalendar:
    """The package's calendar with no local changes, shared by callers that have no settings."""
    return WorkCalendar()
