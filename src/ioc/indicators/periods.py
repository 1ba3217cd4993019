"""Period keys ("2025-Q3", "2025-07", "2025", "2025-07-15"): parsing, bounds, neighbours."""

from __future__ import annotations

import datetime as dt
import re

from ioc.core.problems import Invalid
from ioc.core.workdays import VIETNAM_TZ

_PATTERNS = {
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "year": re.compile(r"^(\d{4})$"),
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
}


def kind_of(key: str) -> str:
    """Which kind of period a key names; Invalid if none."""
    for kind, pattern in _PATTERNS.items():
        if pattern.match(key):
            if kind == "day":
                try:
                    dt.date.fromisoformat(key)
                except ValueError:
                    break
            return kind
    raise Invalid("period", f"{key!r} is not a period: 2025-Q3, 2025-07, 2025 or 2025-07-15")


def bounds(key: str) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) of a period."""
    kind = kind_of(key)
    year = int(key[:4])
    if kind == "year":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if kind == "day":
        day = dt.date.fromisoformat(key)
        return day, day
    if kind == "quarter":
        first_month = 3 * int(key[-1]) - 2
        first = dt.date(year, first_month, 1)
        return first, _next_month(_next_month(_next_month(first))) - dt.timedelta(days=1)
    first = dt.date(year, int(key[5:7]), 1)
    return first, _next_month(first) - dt.timedelta(days=1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def key_of(day: dt.date, kind: str) -> str:
    """The key of the period of ``kind`` holding ``day``."""
    if kind == "day":
        return day.isoformat()
    if kind == "month":
        return f"{day.year:04}-{day.month:02}"
    if kind == "year":
        return f"{day.year:04}"
    return f"{day.year:04}-Q{(day.month + 2) // 3}"


def local_day(moment: dt.datetime) -> dt.date:
    """The Vietnamese calendar day of an instant."""
    return moment.astimezone(VIETNAM_TZ).date()


def previous(key: str, count: int) -> list[str]:
    """The ``count`` periods ending with ``key``, oldest first."""
    kind = kind_of(key)
    keys = [key]
    while len(keys) < count:
        first, _ = bounds(keys[0])
        keys.insert(0, key_of(first - dt.timedelta(days=1), kind))
    return keys


def current(kind: str, today: dt.date | None = None) -> str:
    return key_of(today or local_day(dt.datetime.now(dt.UTC)), kind)


def year_of(key: str) -> int:
    return int(key[:4])
