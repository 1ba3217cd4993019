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
    from ioc.context.service import Change

HISTORY: Table = AttributeHistory.__table__  # type: ignore[assignment]
H = HISTORY.c
PENDING = "ngsi_history"  # session.info key: rows waiting for the commit
SYSTEM_TIMES = ("createdAt", "modifiedAt")


def _moment(text: Any, default: dt.datetime) -> dt.datetime:
    """An instance's observedAt as an aware UTC datetime (already checked on the way in)."""
    if not isinstance(text, str):
        return default
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return default
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def instance_row(
    tenant: str,
    entity_id: str,
    entity_type: str,
    attr: str,
    instance: Instance,
    recorded_at: dt.datetime,
) -> dict[str, Any]:
    """The history row of one attribute instance."""
    member = VALUE_MEMBER.get(instance.get("type", "Property"), "value")
    value = instance.get(member)
    meta = {k: v for k, v in instance.items() if k != member and k not in SYSTEM_TIMES}
    number = (
        float(value)
        if member == "value" and isinstance(value, int | float) and not isinstance(value, bool)
        else None
    )
    return {
        "tenant": tenant,
        "entity_id": entity_id,
        "entity_type": entity_type,
        "attr": attr,
        "dataset_id": instance.get("datasetId"),
        "observed_at": _moment(instance.get("observedAt"), recorded_at),
        "recorded_at": recorded_at,
        "value": orjson.dumps(value).decode(),
        "number": number,
        "meta": orjson.dumps(meta).decode(),
    }


def deletion_row(
    tenant: str, entity_id: str, entity_type: str, attr: str, at: dt.datetime
) -> dict[str, Any]:
    """A marker: the attribute stopped existing at ``at`` (value NULL, never aggregated)."""
    return {
        "tenant": tenant,
        "entity_id": entity_id,
        "entity_type": entity_type,
        "attr": attr,
        "dataset_id": None,
        "observed_at": at,
        "recorded_at": at,
        "value": None,
        "number": None,
        "meta": '{"type":"Property"}',
    }


def rows_of(change: Change) -> list[dict[str, Any]]:
    """What a change adds to the history: the instances it wrote, markers for removals.

    An update records only the instances it stamped (their modifiedAt is the change's time),
    so patching one datasetId does not repeat its siblings.
    """
    rows: list[dict[str, Any]] = []
    attrs = change.attrs or {}
    stamp = timestamp(change.at)
    for name in change.attributes:
        instances = attrs.get(name) if change.kind != "deleted" else None
        if not instances:
            rows.append(deletion_row(change.tenant, change.id, change.type, name, change.at))
            continue
        for instance in instances:
            if change.kind == "created" or instance.get("modifiedAt") == stamp:
                rows.append(
                    instance_row(change.tenant, change.id, change.type, name, instance, change.at)
                )
    return rows


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
