"""The parameters of an items request (bbox, datetime, limit, offset, property filters), checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ioc.core.problems import Invalid
from ioc.gis import geometry as geo

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
RESERVED_PARAMS = frozenset({"bbox", "bbox-crs", "datetime", "limit", "offset", "f", "crs"})

Interval = tuple[dt.datetime | None, dt.datetime | None]


@dataclass(frozen=True, slots=True)
class ItemsQuery:
    bbox: geo.BBox | None = None
    interval: Interval | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    filters: dict[str, str] = field(default_factory=dict)


def _instant(text: str, end: bool) -> dt.datetime | None:
    if text in ("", ".."):
        return None
    try:
        if "T" not in text.upper() and len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
            return moment.replace(tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise Invalid("datetime", f"{text!r} is not an RFC 3339 date-time (or '..')") from None
    if value.tzinfo is None:
        raise Invalid("datetime", f"{text!r} needs a time zone (e.g. Z or +07:00)")
    return value


def parse_datetime(value: str) -> Interval:
    """An instant, or an interval ``start/end`` where either end may be open (``..``)."""
    if "/" not in value:
        moment = _instant(value, end=False)
        if moment is None:
            raise Invalid("datetime", "an instant cannot be open; use start/end with '..'")
        if "T" not in value.upper():
            return moment, _instant(value, end=True)
        return moment, moment
    start_text, _, end_text = value.partition("/")
    start, end = _instant(start_text, end=False), _instant(end_text, end=True)
    if start is None and end is None:
        raise Invalid("datetime", "at least one end of the interval is needed")
    if start is not None and end is not None and end < start:
        raise Invalid("datetime", "the interval ends before it starts")
    return start, end


def parse(params: dict[str, str], queryables: dict[str, str]) -> ItemsQuery:
    """An :class:`ItemsQuery` from query parameters; unknown parameters are Invalid."""
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise Invalid("limit", "a whole number") from None
    if limit < 1:
        raise Invalid("limit", f"between 1 and {MAX_LIMIT}")
    limit = min(limit, MAX_LIMIT)  # a larger limit is served as the maximum, not refused
    try:
        offset = int(params.get("offset", 0))
    except ValueError:
        raise Invalid("offset", "a whole number") from None
    if offset < 0:
        raise Invalid("offset", "must not be negative")
    crs = params.get("bbox-crs")
    if crs and crs not in ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "EPSG:4326"):
        raise Invalid("bbox-crs", "only CRS84 (longitude, latitude) is served")
    bbox = geo.parse_bbox(params["bbox"]) if "bbox" in params else None
    interval = parse_datetime(params["datetime"]) if "datetime" in params else None
    filters = {k: v for k, v in params.items() if k not in RESERVED_PARAMS}
    for name, value in filters.items():
        kind = queryables.get(name)
        if kind is None:
            known = ", ".join(sorted(queryables)) or "none"
            raise Invalid(name, f"not a parameter of this collection (queryables: {known})")
        if kind in ("integer", "number"):
            try:
                float(value)
            except ValueError:
                raise Invalid(name, f"a {kind}, not {value!r}") from None
    return ItemsQuery(bbox, interval, limit, offset, filters)
