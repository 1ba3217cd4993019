"""The temporal API's query parameters → a checked ``TemporalQuery`` (names expanded).

``timerel`` is ``before`` (time < timeAt), ``after`` (time ≥ timeAt) or ``between``
(timeAt ≤ time < endTimeAt) on ``timeproperty`` (observedAt by default; an instance sent
without observedAt counts as observed when it was written; createdAt and modifiedAt are the
time the instance was recorded). ``aggrPeriodDuration`` is an ISO 8601 duration: weeks, days
and clock time make fixed periods counted from timeAt (from 1970-01-01 without one), years and
months make calendar periods starting on the first of a month (UTC); PT0S is the whole range.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ioc.context.errors import BadRequestData
from ioc.context.jsonld import TermMap
from ioc.context.query import names

TIMERELS = ("before", "after", "between")
TIME_PROPERTIES = ("observedAt", "modifiedAt", "createdAt")
AGGREGATES = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
MAX_INSTANCES = 10_000  # per attribute and answer without lastN (206 when more match)
MAX_PERIODS = 100_000  # buckets one aggregation may make
_DURATION = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class Period:
    """An aggregation period: whole months, or a fixed number of seconds (never both)."""

    months: int = 0
    seconds: int = 0

    @property
    def whole_range(self) -> bool:
        return self.months == 0 and self.seconds == 0


@dataclass(frozen=True, slots=True)
class TimeFilter:
    rel: str | None = None
    at: dt.datetime | None = None
    end: dt.datetime | None = None
    prop: str = "observedAt"

    @property
    def lower(self) -> dt.datetime | None:
        return self.at if self.rel in ("after", "between") else None

    @property
    def upper(self) -> dt.datetime | None:
        if self.rel == "before":
            return self.at
        return self.end if self.rel == "between" else None


@dataclass(frozen=True, slots=True)
class TemporalQuery:
    time: TimeFilter
    attrs: frozenset[str] | None = None
    last_n: int | None = None
    methods: tuple[str, ...] = ()  # aggregation methods (aggregatedValues)
    period: Period = Period()
    temporal_values: bool = False
    sys_attrs: bool = False

    @property
    def aggregated(self) -> bool:
        return bool(self.methods)


def moment(raw: str, field: str) -> dt.datetime:
    """An ISO 8601 date-time (UTC when it names no zone)."""
    text = raw.strip()
    try:
        found = dt.datetime.fromisoformat(text)
    except ValueError:
        try:  # an unencoded "+07:00" offset arrives as " 07:00"
            found = dt.datetime.fromisoformat(text[:-6] + "+" + text[-5:])
        except ValueError:
            raise BadRequestData(
                f"{field}: {raw[:60]!r} is not an ISO 8601 date-time (e.g. 2026-01-31T00:00:00Z)"
            ) from None
    return found.replace(tzinfo=dt.UTC) if found.tzinfo is None else found.astimezone(dt.UTC)


def duration(raw: str, field: str = "aggrPeriodDuration") -> Period:
    """An ISO 8601 duration such as PT1H, P1D, P1W, P1M, P1Y; PT0S means the whole range."""
    match = _DURATION.match(raw.strip())
    if match is None:
        raise BadRequestData(f"{field}: {raw[:40]!r} is not an ISO 8601 duration (PT1H, P1D…)")
    years, months, weeks, days, hours, minutes, seconds = (float(g or 0) for g in match.groups())
    in_months = int(years) * 12 + int(months)
    in_seconds = int(((weeks * 7 + days) * 24 + hours) * 3600 + minutes * 60 + seconds)
    if in_months and in_seconds:
        raise BadRequestData(
            f"{field}: {raw!r} mixes months or years with days or time; use one or the other"
        )
    if not in_months and seconds and not in_seconds:
        raise BadRequestData(f"{field}: periods are at least one second long")
    return Period(months=in_months, seconds=in_seconds)


def parse_time(params: Mapping[str, str]) -> TimeFilter:
    rel = params.get("timerel")
    prop = params.get("timeproperty", "observedAt")
    if prop not in TIME_PROPERTIES:
        raise BadRequestData(f"timeproperty: one of {', '.join(TIME_PROPERTIES)}, not {prop!r}")
    if rel is None:
        if "timeAt" in params or "endTimeAt" in params:
            raise BadRequestData("timerel: timeAt and endTimeAt need timerel=before|after|between")
        return TimeFilter(prop=prop)
    if rel not in TIMERELS:
        raise BadRequestData(f"timerel: one of before, after, between, not {rel[:40]!r}")
    raw_at = params.get("timeAt")
    if raw_at is None:
        raise BadRequestData(f"timeAt: timerel={rel} needs timeAt")
    at = moment(raw_at, "timeAt")
    end = None
    if rel == "between":
        raw_end = params.get("endTimeAt")
        if raw_end is None:
            raise BadRequestData("endTimeAt: timerel=between needs endTimeAt")
        end = moment(raw_end, "endTimeAt")
        if end <= at:
            raise BadRequestData("endTimeAt: must be later than timeAt")
    elif "endTimeAt" in params:
        raise BadRequestData(f"endTimeAt: only with timerel=between, not {rel}")
    return TimeFilter(rel, at, end, prop)


def _options(params: Mapping[str, str]) -> frozenset[str]:
    return frozenset(o.strip() for o in params.get("options", "").split(",") if o.strip())


def parse_temporal(params: Mapping[str, str], terms: TermMap) -> TemporalQuery:
    """The temporal part of a request; BadRequestData naming the parameter at fault."""
    time = parse_time(params)
    last_n = None
    raw_last = params.get("lastN")
    if raw_last is not None:
        if not raw_last.isdigit() or int(raw_last) < 1:
            raise BadRequestData(f"lastN: a whole number ≥ 1, not {raw_last[:20]!r}")
        last_n = int(raw_last)
    options = _options(params)
    fmt = params.get("format")
    aggregated = "aggregatedValues" in options or fmt == "aggregatedValues"
    temporal_values = "temporalValues" in options or fmt in ("temporalValues", "simplified")
    if aggregated and temporal_values:
        raise BadRequestData("options: temporalValues and aggregatedValues exclude each other")
    methods: tuple[str, ...] = ()
    period = Period()
    raw_methods = params.get("aggrMethods")
    if aggregated:
        if not raw_methods:
            raise BadRequestData(f"aggrMethods: name some of {', '.join(AGGREGATES)}")
        asked = [m.strip() for m in raw_methods.split(",") if m.strip()]
        unknown = [m for m in asked if m not in AGGREGATES]
        if unknown or not asked:
            raise BadRequestData(
                f"aggrMethods: {', '.join(unknown) or raw_methods!r} not among "
                f"{', '.join(AGGREGATES)}"
            )
        methods = tuple(dict.fromkeys(asked))
        raw_period = params.get("aggrPeriodDuration")
        period = duration(raw_period) if raw_period else Period()
    elif raw_methods or "aggrPeriodDuration" in params:
        raise BadRequestData("options: aggrMethods and aggrPeriodDuration need aggregatedValues")
    return TemporalQuery(
        time=time,
        attrs=names(params.get("attrs"), terms),
        last_n=last_n,
        methods=methods,
        period=period,
        temporal_values=temporal_values,
        sys_attrs="sysAttrs" in options,
    )
