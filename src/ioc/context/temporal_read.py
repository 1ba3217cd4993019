"""Reading the temporal store: instances (with lastN) and aggregations, all in SQL.

Aggregation groups rows into time buckets inside the database: PostgreSQL ``date_bin`` for
fixed periods, epoch arithmetic on SQLite, a month index on both for calendar periods, so a
year of hourly values comes back as a dozen or a few hundred rows, never 8,760.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    cast,
    distinct,
    extract,
    func,
    literal,
    literal_column,
    select,
)

from ioc.context.errors import BadRequestData
from ioc.context.store import E
from ioc.context.temporal_params import MAX_INSTANCES, MAX_PERIODS, TemporalQuery
from ioc.context.temporal_store import H
from ioc.core.db import UTCDateTime
from ioc.core.scope import Scope

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LITERAL_PREFIX = re.compile(r"^\^((?:[A-Za-z0-9_:\-/]|\\\.)+)")


@dataclass(slots=True)
class Row:
    """One stored instance as read."""

    entity_id: str
    entity_type: str
    attr: str
    dataset_id: str | None
    time: dt.datetime
    recorded_at: dt.datetime
    value: str | None
    meta: str
    id: int


@dataclass(slots=True)
class Bucket:
    """One aggregation period of one attribute (one datasetId)."""

    entity_id: str
    entity_type: str
    attr: str
    dataset_id: str | None
    start: dt.datetime
    end: dt.datetime
    values: dict[str, float | int]


def time_column(prop: str) -> Any:
    return H.observed_at if prop == "observedAt" else H.recorded_at


def _conditions(tenant: str, ids: Sequence[str], tq: TemporalQuery) -> list[ColumnElement[bool]]:
    column = time_column(tq.time.prop)
    found: list[ColumnElement[bool]] = [H.tenant == tenant, H.entity_id.in_(ids)]
    if tq.attrs is not None:
        found.append(H.attr.in_(tq.attrs))
    if tq.time.lower is not None:
        found.append(column >= tq.time.lower)
    if tq.time.upper is not None:
        found.append(column < tq.time.upper)
    return found


def instances(
    conn: Connection, tenant: str, ids: Sequence[str], tq: TemporalQuery
) -> tuple[list[Row], bool]:
    """The instances of the entities ``ids``, oldest first; True when some were left out."""
    column = time_column(tq.time.prop)
    keep = tq.last_n or MAX_INSTANCES + 1
    order = (column.desc(), H.id.desc()) if tq.last_n else (column, H.id)
    rank = func.row_number().over(partition_by=(H.entity_id, H.attr, H.dataset_id), order_by=order)
    inner = (
        select(
            H.entity_id,
            H.entity_type,
            H.attr,
            H.dataset_id,
            column.label("t"),
            H.recorded_at,
            H.value,
            H.meta,
            H.id,
            rank.label("rn"),
        )
        .where(*_conditions(tenant, ids, tq))
        .subquery()
    )
    c = inner.c
    statement = (
        select(c.entity_id, c.entity_type, c.attr, c.dataset_id, c.t, c.recorded_at, c.value)
        .add_columns(c.meta, c.id, c.rn)
        .where(c.rn <= keep)
        .order_by(c.entity_id, c.attr, c.t, c.id)
    )
    rows: list[Row] = []
    truncated = False
    for r in conn.execute(statement):
        if r.rn > MAX_INSTANCES and not tq.last_n:
            truncated = True
            continue
        rows.append(Row(*r[:9]))
    return rows, truncated


def _month(index: int) -> dt.datetime:
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def _month_index(moment: dt.datetime) -> int:
    return moment.year * 12 + moment.month - 1


def _bucket(tq: TemporalQuery, postgres: bool) -> tuple[Any, dt.datetime | int]:
    """The SQL bucket expression and its origin (a datetime, or a month index)."""
    column = time_column(tq.time.prop)
    period = tq.period
    origin = tq.time.lower or EPOCH
    if period.months:
        start = _month_index(origin)
        if postgres:
            utc = func.timezone("UTC", column)
            index: Any = (
                cast(extract("year", utc), Integer) * 12 + cast(extract("month", utc), Integer) - 1
            )
        else:
            index = (
                cast(func.strftime("%Y", column), Integer) * 12
                + cast(func.strftime("%m", column), Integer)
                - 1
            )
        return (index - start) // period.months, start
    if postgres:
        stride: Any = literal_column(f"interval '{int(period.seconds)} seconds'")
        since = literal(origin, UTCDateTime())
        return func.date_bin(stride, column, since, type_=UTCDateTime()), origin
    origin = origin.replace(microsecond=0)
    seconds = cast(func.strftime("%s", column), Integer)
    return (seconds - int(origin.timestamp())) // period.seconds, origin


def _span(tq: TemporalQuery, bucket: Any, origin: dt.datetime | int) -> tuple[dt.datetime, ...]:
    period = tq.period
    if period.months:
        assert isinstance(origin, int)
        first = origin + int(bucket) * period.months
        return _month(first), _month(first + period.months)
    length = dt.timedelta(seconds=period.seconds)
    if isinstance(bucket, dt.datetime):
        return bucket, bucket + length
    assert isinstance(origin, dt.datetime)
    start = origin + length * int(bucket)
    return start, start + length


def _check_size(tq: TemporalQuery) -> None:
    lower, upper = tq.time.lower, tq.time.upper
    if tq.period.whole_range or lower is None or upper is None:
        return
    span = (upper - lower).total_seconds()
    periods = (
        (_month_index(upper) - _month_index(lower) + 1) / tq.period.months
        if tq.period.months
        else span / tq.period.seconds
    )
    if periods > MAX_PERIODS:
        raise BadRequestData(
            f"aggrPeriodDuration: {int(periods):,} periods is more than {MAX_PERIODS:,}; "
            "ask for longer periods or a shorter range"
        )


def _stddev(n: int, total: float, squares: float) -> float:
    if n < 2:
        return 0.0
    return math.sqrt(max(0.0, (squares - total * total / n) / (n - 1)))


def aggregate(
    conn: Connection, tenant: str, ids: Sequence[str], tq: TemporalQuery, postgres: bool
) -> list[Bucket]:
    """Each attribute's values per period, every method computed by one GROUP BY."""
    _check_size(tq)
    column = time_column(tq.time.prop)
    keys: list[Any] = [H.entity_id, H.attr, H.dataset_id]
    origin: dt.datetime | int = EPOCH
    if not tq.period.whole_range:
        bucket, origin = _bucket(tq, postgres)
        keys.append(bucket.label("b"))
    asked = set(tq.methods)
    numeric = asked & {"sum", "avg", "min", "max", "sumsq", "stddev"}
    measures: list[Any] = [func.count(H.value).label("totalCount")]
    if "distinctCount" in asked:
        measures.append(func.count(distinct(H.value)).label("distinctCount"))
    if numeric:
        measures.append(func.count(H.number).label("n"))
    for method in ("sum", "avg", "min", "max"):
        if method in asked or (method == "sum" and "stddev" in asked):
            measures.append(getattr(func, method)(H.number).label(method))
    if asked & {"sumsq", "stddev"}:
        measures.append(func.sum(H.number * H.number).label("sumsq"))
    if tq.period.whole_range:
        measures += [func.min(column).label("first"), func.max(column).label("last")]
    measures.append(func.max(H.entity_type).label("entity_type"))
    statement = (
        select(*keys, *measures)
        .where(*_conditions(tenant, ids, tq))
        .group_by(*keys)
        .order_by(*keys)
    )
    found: list[Bucket] = []
    for r in conn.execute(statement):
        if not r.totalCount:
            continue  # only deletion markers in this period
        span: tuple[dt.datetime, ...]
        if tq.period.whole_range:
            span = (tq.time.lower or r.first, tq.time.upper or r.last)
        else:
            span = _span(tq, r.b, origin)
        values: dict[str, float | int] = {
            name: value for name, value in r._mapping.items() if name in asked
        }
        if "stddev" in asked and r.n:
            values["stddev"] = _stddev(r.n, r.sum, r.sumsq)
        elif numeric and not r.n:  # no numbers in this period: no numeric aggregate
            values = {k: v for k, v in values.items() if k not in numeric}
        found.append(
            Bucket(r.entity_id, r.entity_type, r.attr, r.dataset_id, span[0], span[1], values)
        )
    return found


def entity_page(
    conn: Connection,
    tenant: str,
    tq: TemporalQuery,
    scope: Scope,
    *,
    ids: Sequence[str] = (),
    types: Sequence[str] | None = None,
    id_pattern: re.Pattern[str] | None = None,
    limit: int,
    offset: int,
    count: bool,
) -> tuple[list[str], int | None]:
    """Ids (ordered) of entities with history matching the selection, one page of them."""
    column = time_column(tq.time.prop)
    conditions: list[ColumnElement[bool]] = [H.tenant == tenant]
    if ids:
        conditions.append(H.entity_id.in_(ids))
    if types is not None:
        conditions.append(H.entity_type.in_(types))
    if tq.attrs is not None:
        conditions.append(H.attr.in_(tq.attrs))
    if tq.time.lower is not None:
        conditions.append(column >= tq.time.lower)
    if tq.time.upper is not None:
        conditions.append(column < tq.time.upper)
    if id_pattern is not None:
        prefix = _LITERAL_PREFIX.match(id_pattern.pattern)
        if prefix is not None:
            literal_text = prefix[1].replace("\\.", ".")
            escaped = literal_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(H.entity_id.like(escaped + "%", escape="\\"))
    if scope.place_path is not None:  # as the broker: entities are scoped by place only
        visible = select(E.id).where(E.tenant == tenant, scope.where(place=E.place_code))
        conditions.append(H.entity_id.in_(visible))
    statement = select(H.entity_id).where(*conditions).group_by(H.entity_id).order_by(H.entity_id)
    if id_pattern is None and not count:
        page = conn.scalars(statement.limit(limit).offset(offset))
        return list(page), None
    matched = [i for i in conn.scalars(statement) if id_pattern is None or id_pattern.search(i)]
    return matched[offset : offset + limit], len(matched) if count else None


def visible(conn: Connection, tenant: str, entity_id: str, scope: Scope) -> bool:
    """A place-scoped caller sees the history of entities of its places only."""
    if scope.place_path is None:
        return True
    statement = select(E.id).where(
        E.tenant == tenant, E.id == entity_id, scope.where(place=E.place_code)
    )
    return conn.scalar(statement) is not None
