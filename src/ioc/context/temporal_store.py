"""Writing the temporal store: every entity change becomes history rows in its own transaction.

The broker hands each ``Change`` to ``record``, which only turns it into row dicts and keeps
them on the session; just before the session commits, one ``executemany`` inserts the rows of
every write in the group. The rows therefore commit (or roll back) with the entity writes
that made them, and a group of 128 device updates costs one INSERT, not 128.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Table, and_, delete, event, insert, select
from sqlalchemy.orm import Session

from ioc.context.entities import VALUE_MEMBER, Instance
from ioc.context.render import timestamp
from ioc.context.temporal_models import AttributeHistory

if TYPE_CHECKING:
    from ioc.context.changes import Change

HISTORY: Table = AttributeHistory.__table__  # type: ignore[assignment]
H = HISTORY.c
PENDING = "ngsi_history"  # session.info key: rows waiting for the commit


def _moment(text: Any, default: dt.datetime) -> dt.datetime:
    """An instance's observedAt as an aware UTC datetime (already checked on the way in)."""
    if not isinstance(text, str):
        return default
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return default
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


COLUMNS = (  # a history row's values, in this order (``values_of``: COPY takes them as is)
    "tenant",
    "entity_id",
    "entity_type",
    "attr",
    "dataset_id",
    "observed_at",
    "recorded_at",
    "value",
    "number",
    "meta",
)
DELETED_META = '{"type":"Property"}'


# The meta of an instance that is only its type, its value and its system times (most):
# the same text for every instance of a type, made once.
_BARE_META = {kind: orjson.dumps({"type": kind}).decode() for kind in VALUE_MEMBER}


def instance_values(
    tenant: str,
    entity_id: str,
    entity_type: str,
    attr: str,
    instance: Instance,
    recorded_at: dt.datetime,
) -> tuple[Any, ...]:
    """The history row of one attribute instance, as values in ``COLUMNS`` order."""
    kind = instance.get("type")
    member = VALUE_MEMBER.get(kind or "Property", "value")
    value = instance.get(member)
    number = (
        float(value)
        if member == "value" and isinstance(value, int | float) and not isinstance(value, bool)
        else None
    )
    bare = (
        kind is not None
        and len(instance) == 4
        and member in instance
        and "modifiedAt" in instance
        and "createdAt" in instance
        and _BARE_META.get(kind)
    )
    if bare:  # no observedAt, datasetId, unitCode or sub-attributes
        return (
            tenant,
            entity_id,
            entity_type,
            attr,
            None,
            recorded_at,
            recorded_at,
            orjson.dumps(value).decode(),
            number,
            bare,
        )
    meta = dict(instance)  # the rest of the instance, in its order
    meta.pop(member, None)
    meta.pop("createdAt", None)
    meta.pop("modifiedAt", None)
    observed = instance.get("observedAt")
    return (
        tenant,
        entity_id,
        entity_type,
        attr,
        instance.get("datasetId"),
        recorded_at if observed is None else _moment(observed, recorded_at),
        recorded_at,
        orjson.dumps(value).decode(),
        number,
        orjson.dumps(meta).decode(),
    )


def instance_row(
    tenant: str,
    entity_id: str,
    entity_type: str,
    attr: str,
    instance: Instance,
    recorded_at: dt.datetime,
) -> dict[str, Any]:
    """The history row of one attribute instance."""
    values = instance_values(tenant, entity_id, entity_type, attr, instance, recorded_at)
    return dict(zip(COLUMNS, values, strict=True))


def deletion_values(
    tenant: str, entity_id: str, entity_type: str, attr: str, at: dt.datetime
) -> tuple[Any, ...]:
    """A marker: the attribute stopped existing at ``at`` (value NULL, never aggregated)."""
    return (tenant, entity_id, entity_type, attr, None, at, at, None, None, DELETED_META)


def values_of(change: Change, stamp: str | None = None) -> list[tuple[Any, ...]]:
    """What a change adds to the history (rows as ``COLUMNS`` values): the instances it
    wrote, markers for removals. ``stamp``: ``timestamp(change.at)``, if the caller has it.

    An update records only the instances it stamped (their modifiedAt is the change's time),
    so patching one datasetId does not repeat its siblings.
    """
    rows: list[tuple[Any, ...]] = []
    attrs = change.attrs or {}
    stamp = stamp or timestamp(change.at)
    tenant, entity_id, kind, at = change.tenant, change.id, change.type, change.at
    created, deleted = change.kind == "created", change.kind == "deleted"
    for name in change.attributes:
        instances = attrs.get(name) if not deleted else None
        if not instances:
            rows.append(deletion_values(tenant, entity_id, kind, name, at))
            continue
        for instance in instances:
            if created or instance.get("modifiedAt") == stamp:
                rows.append(instance_values(tenant, entity_id, kind, name, instance, at))
    return rows


def rows_of(change: Change) -> list[dict[str, Any]]:
    """``values_of`` as row dicts (for SQLAlchemy's executemany)."""
    return [dict(zip(COLUMNS, values, strict=True)) for values in values_of(change)]


def record(session: Session, change: Change) -> None:
    """Keep the change's history rows for the session's commit."""
    rows = rows_of(change)
    if rows:
        session.info.setdefault(PENDING, []).extend(rows)


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(HISTORY), rows)


@event.listens_for(Session, "before_commit")
def _flush_history(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if rows:
        insert_rows(session.connection(), rows)


@event.listens_for(Session, "after_rollback")
def _forget_history(session: Session) -> None:
    session.info.pop(PENDING, None)


# -- the temporal API's own writes -------------------------------------------------------


def entity_type(conn: Connection, tenant: str, entity_id: str) -> str | None:
    """The entity's type as its history has it; None when it has no history.

    Any row will do (one index probe): answers take each row's own type anyway.
    """
    statement = select(H.entity_type).where(H.tenant == tenant, H.entity_id == entity_id).limit(1)
    found: str | None = conn.scalar(statement)
    return found


def add_instances(
    conn: Connection,
    tenant: str,
    entity_id: str,
    kind: str,
    attrs: dict[str, list[Instance]],
    now: dt.datetime,
) -> int:
    """Insert the given instances as history (the temporal API's POST); how many."""
    rows = [
        instance_row(tenant, entity_id, kind, name, instance, now)
        for name, instances in attrs.items()
        for instance in instances
    ]
    insert_rows(conn, rows)
    return len(rows)


def delete_history(
    conn: Connection,
    tenant: str,
    entity_id: str,
    attr: str | None = None,
    dataset_id: str | None = None,
    every_dataset: bool = True,
) -> int:
    """Delete an entity's history, or one attribute's (one datasetId's); rows deleted."""
    conditions = [H.tenant == tenant, H.entity_id == entity_id]
    if attr is not None:
        conditions.append(H.attr == attr)
        if not every_dataset:
            conditions.append(
                H.dataset_id.is_(None) if dataset_id is None else H.dataset_id == dataset_id
            )
    return int(conn.execute(delete(HISTORY).where(and_(*conditions))).rowcount)
