"""Batch entity operations: every entity succeeds or fails on its own, and each is reported."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from ioc.context import edits
from ioc.context.changes import (
    Change,
    ChangedMeanwhile,
    HistoryCopy,
    history_copy,
    publish_many,
)
from ioc.context.entities import Attributes, NewEntity
from ioc.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from ioc.context.geo import LOCATION
from ioc.context.render import timestamp
from ioc.context.service import Broker
from ioc.context.store import Location, Stored
from ioc.core.db import utcnow
from ioc.core.problems import Problem
from ioc.core.scope import Scope

OPERATIONS = ("create", "upsert", "update", "delete")
log = logging.getLogger(__name__)
# From this many entities a batch sends its history rows by one COPY while it applies its
# items (PostgreSQL); fewer go in the pipeline with the rest, in one round trip.
STREAM_FROM = 50
CHANGED_MEANWHILE = (  # what a write on entities read ahead may meet (the driver's own too)
    ChangedMeanwhile,
    IntegrityError,
    OperationalError,
    psycopg.IntegrityError,
    psycopg.OperationalError,
)
# Reads ahead run here while the request's items are parsed (see ``read_ahead``).
_AHEAD = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ngsi-ld-read-ahead")


@dataclass(frozen=True, slots=True)
class Failed:
    """An item refused before the store was touched (bad JSON-LD, a bad id…)."""

    entity_id: str | None
    problem: Problem


Item = NewEntity | str | Failed  # an entity, an id to delete, or a refusal


@dataclass(slots=True)
class BatchResult:
    """The spec's BatchOperationResult, plus which ids were created and what changed."""

    success: list[str] = field(default_factory=list)
    errors: list[tuple[str | None, Problem]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "errors": [
                {"entityId": eid, "error": problem.to_dict()} for eid, problem in self.errors
            ],
        }


def check(body: Any, limit: int) -> list[Any]:
    """The items of a batch body: a non-empty array no longer than ``limit``."""
    if not isinstance(body, list):
        raise BadRequestData("the body of a batch operation is a JSON array")
    if not body:
        raise BadRequestData("the batch is empty")
    if len(body) > limit:
        raise BadRequestData(
            f"the batch holds {len(body)} entities, more than the limit of {limit} "
            "(IOC_NGSILD_MAX_BATCH)"
        )
    return body


def id_of(item: Any) -> str | None:
    """The entity id an item names, for its error report."""
    if isinstance(item, dict):
        value = item.get("id", item.get("@id"))
        return value if isinstance(value, str) else None
    return item if isinstance(item, str) else None


def outlines_only(operation: str, options: frozenset[str]) -> bool:
    """Create and replace never read the stored attributes, only their names and location."""
    return operation == "create" or (operation == "upsert" and "update" not in options)


def read_ahead(
    broker: Broker, tenant: str, operation: str, options: frozenset[str], body: list[Any]
) -> Future[dict[str, Stored]] | None:
    """On PostgreSQL, the outlines of the entities a create or replace names, read in a
    thread without locks while the caller parses the items (the database works meanwhile).

    ``run`` writes on them guarded by each entity's version; if one changed after this read,
    it undoes that attempt and runs the batch again on a locked read."""
    if not broker.store.postgres or not outlines_only(operation, options):
        return None
    ids = sorted({found for found in map(id_of, body) if found})
    return _AHEAD.submit(_outlines, broker, tenant, ids) if ids else None


def _outlines(broker: Broker, tenant: str, ids: list[str]) -> dict[str, Stored]:
    with broker.reader.connect() as conn:  # autocommit: no transaction to end
        return broker.store.read_many(conn, tenant, ids, outline=True, lock=False)


def run(
    broker: Broker,
    session: Session,
    tenant: str,
    operation: str,
    items: list[Item],
    scope: Scope,
    options: frozenset[str] = frozenset(),
    seen: dict[str, Stored] | None = None,
) -> BatchResult:
    """Apply ``operation`` to each item in order; an item's failure stays its own.

    Create, upsert and update read every entity named in one query, apply the items in
    order in Python and write them with one multi-row INSERT, one UPDATE executemany and one
    events INSERT (``_Batch``); deletes go one by one. ``seen``: the entities as
    ``read_ahead`` found them, unlocked; tried first, then read again, locked, if any
    changed meanwhile."""
    broker.flush(session)
    broker.ensure_tenant(session, tenant)
    if operation != "delete":
        if seen is not None:
            try:
                with session.begin_nested():
                    return _Batch(broker, session, tenant, scope).run(
                        operation, items, options, seen
                    )
            except CHANGED_MEANWHILE as exc:
                # changed or created since read ahead, or a deadlock with a concurrent batch
                # (no lock taken in id order): undone to the savepoint, now read locked
                log.info("a batch's entities changed since read ahead (%s); again, locked", exc)
        return _Batch(broker, session, tenant, scope).run(operation, items, options)
    result = BatchResult()
    for item in items:
        if isinstance(item, Failed):
            result.errors.append((item.entity_id, item.problem))
            continue
        gone = str(item)  # a delete's items are ids
        try:
            result.changes.append(broker.delete(session, tenant, gone, scope))
            result.success.append(gone)
        except Problem as problem:
            result.errors.append((gone, problem))
    return result


@dataclass(slots=True)
class _Pending:
    """One entity's write, built up by the batch's items: an INSERT or a guarded UPDATE."""

    new: bool
    stored: Stored  # as read (for an UPDATE: the version its guard names)
    attrs: Attributes
    kind: str
    location: Location | None = None  # the type or the location changed: the located UPDATE


class _Batch:
    """The items of one batch against the entities as read once, written in a few statements."""

    def __init__(self, broker: Broker, session: Session, tenant: str, scope: Scope) -> None:
        self.broker = broker
        self.session = session
        self.tenant = tenant
        self.scope = scope
        self.now = utcnow()
        self.stamp = timestamp(self.now)
        self.current: dict[str, Stored | None] = {}
        self.pending: dict[str, _Pending] = {}

    def run(
        self,
        operation: str,
        items: list[Item],
        options: frozenset[str],
        seen: dict[str, Stored] | None = None,
    ) -> BatchResult:
        wanted = sorted({i.id for i in items if isinstance(i, NewEntity)})
        self.current = dict.fromkeys(wanted)
        if seen is not None:  # read ahead, unlocked: every write below is version-guarded
            self.current.update((key, seen[key]) for key in wanted if key in seen)
        else:
            self.current.update(
                self.broker.store.read_many(
                    self.session.connection(),
                    self.tenant,
                    wanted,
                    outline=outlines_only(operation, options),
                )
            )
        result = BatchResult()
        streamed = self.broker.store.postgres and len(wanted) >= STREAM_FROM
        # history rows stored while the next items apply, else written with the events
        with history_copy(self.session) if streamed else nullcontext() as history:
            self._apply_all(operation, items, options, result, history)
        publish_many(
            self.broker.store,
            self.session,
            result.changes,
            writes=self._writes(),
            history_sent=history is not None,
        )
        return result

    def _apply_all(
        self,
        operation: str,
        items: list[Item],
        options: frozenset[str],
        result: BatchResult,
        history: HistoryCopy | None,
    ) -> None:
        """Each item in order against ``self.current`` (no SQL: ``history`` may hold the
        connection); its change, if any, to ``result`` and to ``history``."""
        for item in items:
            if isinstance(item, Failed):
                result.errors.append((item.entity_id, item.problem))
                continue
            assert isinstance(item, NewEntity)
            try:
                change = self._apply(operation, item, options, result)
            except Problem as problem:
                result.errors.append((item.id, problem))
                continue
            if change is not None:
                result.changes.append(change)
                if history is not None:
                    history.add(change)
            result.success.append(item.id)

    def _apply(
        self, operation: str, item: NewEntity, options: frozenset[str], result: BatchResult
    ) -> Change | None:
        """What ``Broker.create`` / ``replace`` / ``append`` do, against ``self.current``."""
        broker = self.broker
        broker._may_write(self.scope)
        stored = self.current[item.id]
        if operation == "create" or (operation == "upsert" and stored is None):
            if item.type is None:
                raise BadRequestData("type: an entity needs a type")
            attrs = edits.stamp_all(item.attrs, self.stamp)
            if broker.check is not None:
                broker.check(item.id, item.type, attrs)
            location = Location.of(attrs, LOCATION)  # a bad geometry is this item's error
            if stored is not None:
                raise AlreadyExists(f"entity {item.id} already exists")
            made = Stored(item.id, item.type, attrs, self.now, self.now, 1, None)
            self.current[item.id] = made
            self.pending[item.id] = _Pending(True, made, attrs, item.type, location)
            result.created.append(item.id)
            return Change(
                "created", self.tenant, item.id, item.type, tuple(attrs), self.now, None, attrs
            )
        if operation == "upsert" and "update" not in options:
            edit = edits.replace_entity(item)
        else:  # update, or upsert with options=update: append to the existing entity
            overwrite = "noOverwrite" not in options
            edit = edits.append(item.attrs, overwrite=overwrite, only_existing=False)
        if stored is None:
            raise ResourceNotFound(f"no entity {item.id}")
        done = edit(stored, self.stamp)
        if not done.changed and done.kind is None:
            return None
        kind = done.kind or stored.type
        if broker.check is not None:
            broker.check(item.id, kind, done.attrs)
        # the type or the geometry changed: the located UPDATE (a replace naming the same
        # type and location, as most upserts do, is a plain one)
        relocated = kind != stored.type or (
            LOCATION in done.changed and not Location.same(stored.attrs, done.attrs, LOCATION)
        )
        moved = Location.of(done.attrs, LOCATION) if relocated else None
        before = self.pending.get(item.id)
        self.current[item.id] = Stored(
            stored.id,
            kind,
            done.attrs,
            stored.created_at,
            stored.modified_at,
            stored.version,
            stored.place_code,
        )
        if before is None:
            self.pending[item.id] = _Pending(False, stored, done.attrs, kind, moved)
        else:
            before.attrs, before.kind = done.attrs, kind
            if moved is not None or before.location is not None:  # the latest location
                before.location = moved or Location.of(done.attrs, LOCATION)
        return Change(
            "updated",
            self.tenant,
            item.id,
            kind,
            tuple(done.changed),
            self.now,
            stored.place_code,
            done.attrs,
        )

    def _writes(self) -> list[tuple[UpdateBase, list[dict[str, Any]]]]:
        """The new entities for one INSERT, the changed ones for one UPDATE executemany of
        each kind; an entity another writer created or changed meanwhile fails the group."""
        store = self.broker.store
        inserts, updates, located = [], [], []
        for entity_id, p in self.pending.items():
            if p.new:
                inserts.append(
                    store.insert_params(
                        self.tenant, entity_id, p.kind, p.attrs, self.now, p.location
                    )
                )
            elif p.location is not None:
                located.append(
                    store.update_params(
                        self.tenant, p.stored, p.attrs, self.now, p.kind, p.location
                    )
                )
            else:
                updates.append(store.update_params(self.tenant, p.stored, p.attrs, self.now))
        return [
            (store.insert_new, inserts),
            (store.update_plain, updates),
            (store.update_located, located),
        ]
