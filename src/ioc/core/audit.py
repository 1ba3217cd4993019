"""Append-only audit log: each flushed insert, update and delete becomes a row, same transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from ioc.core.db import Base, utcnow
from ioc.core.models import AuditEntry

SECRET = "***"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _is_audited(obj: object) -> bool:
    return isinstance(obj, Base) and getattr(obj, "__audit__", True)


def _identity(obj: Base) -> str:
    state = inspect(obj)
    # A new row gets its identity key only after after_flush; its primary key is already set.
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    if any(part is None for part in key):
        return ""
    return ":".join(str(part) for part in key)


def _snapshot(obj: Base) -> dict[str, Any]:
    secret = getattr(obj, "__audit_secret__", ())
    state = inspect(obj)
    unloaded = state.unloaded  # a set computed on each access: once per object, not per column
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in unloaded:
            continue
        value = getattr(obj, attr.key)
        out[attr.key] = SECRET if attr.key in secret and value is not None else _jsonable(value)
    return out


def _changes(obj: Base) -> tuple[dict[str, Any], dict[str, Any]]:
    secret = getattr(obj, "__audit_secret__", ())
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        hidden = attr.key in secret
        before[attr.key] = SECRET if hidden else _jsonable(old)
        after[attr.key] = SECRET if hidden else _jsonable(new)
    return before, after


def _entry(session: Session, obj: Base, action: str, before: Any, after: Any) -> dict[str, Any]:
    place = getattr(obj, "place_code", None)
    return {
        "at": utcnow(),
        "actor": str(session.info.get("actor", "system")),
        "action": action,
        "entity": obj.__tablename__,
        "entity_id": _identity(obj),
        "place_code": place if isinstance(place, str) else None,
        "before": before,
        "after": after,
        "request_id": session.info.get("request_id"),
    }


# Built once, on the table rather than the class: a plain INSERT, not an ORM bulk insert.
_INSERT_AUDIT = insert(Base.metadata.tables[AuditEntry.__tablename__])


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, flush: UOWTransaction) -> None:
    """Write one audit row per changed object, inside the flush's transaction."""
    rows: list[dict[str, Any]] = []
    # Orphans of a delete-orphan cascade are deleted without ever being in session.deleted.
    deleted = [state.obj() for state, (isdelete, _) in flush.states.items() if isdelete]
    for obj in session.new:
        if _is_audited(obj):
            rows.append(_entry(session, obj, "insert", None, _snapshot(obj)))
    for obj in session.dirty:
        if _is_audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                rows.append(_entry(session, obj, "update", before, after))
    for obj in deleted:
        if obj is not None and _is_audited(obj):
            rows.append(_entry(session, obj, "delete", _snapshot(obj), None))
    if rows:
        session.connection().execute(_INSERT_AUDIT, rows)


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: str,
    *,
    after: dict[str, Any] | None = None,
    place_code: str | None = None,
) -> None:
    """Audit a bulk operation that bypasses the ORM (e.g. loading 151 communes at once)."""
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=str(session.info.get("actor", "system")),
            action=action,
            entity=entity,
            entity_id=entity_id,
            place_code=place_code,
            before=None,
            after=after,
            request_id=session.info.get("request_id"),
        )
    )


def record_inserts(session: Session, rows: Sequence[tuple[type[Base], Mapping[Any, Any]]]) -> None:
    """Audit rows a hot path inserted with Core (``INSERT … RETURNING`` every column).

    The entries are those the flush listener writes for the same objects: the whole row as
    stored, secrets masked; one INSERT for all of them.
    """
    entries = []
    for model, row in rows:
        secret = getattr(model, "__audit_secret__", ())
        after = {
            key: SECRET if key in secret and value is not None else _jsonable(value)
            for key, value in row.items()
        }
        keys = inspect(model).primary_key
        entity_id = ":".join(str(row[c.name]) for c in keys)
        place = row.get("place_code")
        entries.append(
            {
                "at": utcnow(),
                "actor": str(session.info.get("actor", "system")),
                "action": "insert",
                "entity": model.__tablename__,
                "entity_id": entity_id,
                "place_code": place if isinstance(place, str) else None,
                "before": None,
                "after": after,
                "request_id": session.info.get("request_id"),
            }
        )
    if entries:
        session.connection().execute(_INSERT_AUDIT, entries)
