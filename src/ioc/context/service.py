"""The NGSI-LD broker's entity operations: framework-neutral, names already expanded.

The HTTP API calls these, and so will the MQTT bridge and the importers. Reads take a
connection; writes take a session (its transaction also holds the events) and return the
``Change`` they made, which is what the temporal store and subscriptions will consume.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.orm import Session

from ioc.context import edits
from ioc.context.changes import Change, publish, publish_many
from ioc.context.contexts import ContextStore
from ioc.context.edits import UpdateResult
from ioc.context.entities import Attributes, Instance, NewEntity
from ioc.context.errors import (
    AlreadyExists,
    BadRequestData,
    InternalError,
    NonexistentTenant,
    ResourceNotFound,
)
from ioc.context.geo import LOCATION
from ioc.context.jsonld import TermMap
from ioc.context.query import EntityQuery, QueryRunner
from ioc.context.render import timestamp
from ioc.context.store import ENTITIES, Location, Store, Stored, dumps
from ioc.context.writer import GROUPED, GroupWriter, wait
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.models import Place
from ioc.core.plugins import load_object
from ioc.core.problems import Forbidden, Problem
from ioc.core.scope import Scope

DEFAULT_TENANT = "default"
E = ENTITIES.c
MAX_ATTEMPTS = 5  # optimistic writes retried when another writer got there first
DEFERRED = "ngsi_deferred"  # session.info: a group's single-entity writes waiting for commit


@dataclass(slots=True)
class _Deferred:
    """A group's single-entity edits, written at commit with one UPDATE executemany and one
    events INSERT: each entity is read (locked) once, later jobs edit it as left here."""

    broker: Broker
    current: dict[tuple[str, str], Stored] = field(default_factory=dict)
    read: dict[tuple[str, str], Stored] = field(default_factory=dict)  # as read: its version
    located: set[tuple[str, str]] = field(default_factory=set)  # type or location changed
    at: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)  # edited: when
    missing: set[tuple[str, str]] = field(default_factory=set)  # gathered, not found
    changes: list[Change] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)  # each change's job's actor


@event.listens_for(Session, "before_commit")
def _write_deferred(session: Session) -> None:
    deferred = session.info.get(DEFERRED)
    if deferred is not None:
        deferred.broker.flush(session)


@event.listens_for(Session, "after_rollback")
def _forget_deferred(session: Session) -> None:
    session.info.pop(DEFERRED, None)


class Broker:
    """Entities of every tenant in one database; one per app (tests run several side by side)."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.store = Store(database.dialect)
        self.queries = QueryRunner(self.store)
        self.contexts = ContextStore(
            database,
            fetch_remote=settings.ngsild_fetch_contexts,
            timeout=settings.ngsild_context_timeout,
        )
        self.max_batch = settings.ngsild_max_batch
        # IOC_DEVICES_VALIDATE_WRITES: Smart Data Model types are checked against their schemas.
        self.check: Callable[[str, str, Attributes], None] | None = (
            load_object("ioc.devices.validation:check_stored")
            if settings.devices_validate_writes
            else None
        )
        self.writer = GroupWriter(database.sessionmaker, name="ngsi-ld-writer", gather=self._gather)
        self._tenants: set[str] = {DEFAULT_TENANT}
        # Reads need no transaction: on PostgreSQL, autocommit spares a BEGIN and a ROLLBACK.
        engine = database.engine
        self.reader: Engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.store.postgres
            else engine
        )

    # -- sessions and tenants ------------------------------------------------------------

    @contextmanager
    def writing(self, actor: str, request_id: str | None = None) -> Iterator[Session]:
        """A session whose writes and events commit together (the outbox relay is woken)."""
        with self.database.sessionmaker() as session:
            session.info["actor"] = actor
            session.info["request_id"] = request_id
            yield session
            session.commit()

    def knows_tenant(self, tenant: str) -> bool:
        """Known to this process already (no I/O)."""
        return tenant in self._tenants

    def check_tenant(self, conn: Connection, tenant: str) -> None:
        """Reads of a tenant nobody wrote to are NonexistentTenant (404)."""
        if tenant in self._tenants:
            return
        if not self.store.tenant_exists(conn, tenant):
            raise NonexistentTenant(f"NGSILD-Tenant: no tenant {tenant!r} here")
        self._tenants.add(tenant)

    def _ensure_tenant(self, conn: Connection, tenant: str) -> None:
        if tenant not in self._tenants:
            self.store.add_tenant(conn, tenant, utcnow())
            self._tenants.add(tenant)

    # -- scope ---------------------------------------------------------------------------

    @staticmethod
    def _visible(conn: Connection, scope: Scope, place_code: str | None) -> bool:
        if scope.place_path is None:
            return True
        if place_code is None:
            return False
        path = conn.scalar(select(Place.path).where(Place.code == place_code))
        return path is not None and (
            path == scope.place_path or path.startswith(scope.place_path + "/")
        )

    @staticmethod
    def _may_write(scope: Scope) -> None:
        if scope.place_path is not None:
            raise Forbidden(
                "a place-scoped key or user cannot write NGSI-LD entities yet: entities carry "
                "no place until place derivation arrives"
            )

    # -- reads ---------------------------------------------------------------------------

    def retrieve(self, conn: Connection, tenant: str, entity_id: str, scope: Scope) -> Stored:
        self.check_tenant(conn, tenant)
        stored = self.store.read(conn, tenant, entity_id)
        if stored is None or not self._visible(conn, scope, stored.place_code):
            raise ResourceNotFound(f"no entity {entity_id}")
        return stored

    def query(
        self, conn: Connection, tenant: str, query: EntityQuery, scope: Scope
    ) -> tuple[list[Stored], int | None]:
        self.check_tenant(conn, tenant)
        return self.queries.run(conn, tenant, query, scope)

    # -- writes --------------------------------------------------------------------------

    def create(self, session: Session, tenant: str, entity: NewEntity, scope: Scope) -> Change:
        """Store a new entity (AlreadyExists if the id is taken in this tenant)."""
        self._may_write(scope)
        if entity.type is None:
            raise BadRequestData("type: an entity needs a type")
        self.flush(session)
        conn = session.connection()
        self._ensure_tenant(conn, tenant)
        now = utcnow()
        attrs = edits.stamp_all(entity.attrs, timestamp(now))
        if self.check is not None:
            self.check(entity.id, entity.type, attrs)
        location = Location.of(attrs, LOCATION)
        if not self.store.insert(conn, tenant, entity.id, entity.type, attrs, location, now):
            raise AlreadyExists(f"entity {entity.id} already exists")
        change = Change("created", tenant, entity.id, entity.type, tuple(attrs), now, None, attrs)
        return publish(session, change)

    def delete(self, session: Session, tenant: str, entity_id: str, scope: Scope) -> Change:
        self._may_write(scope)
        self.flush(session)
        conn = session.connection()
        stored = self.store.read(conn, tenant, entity_id, lock=True)
        if stored is None or not self.store.delete(conn, tenant, entity_id):
            raise ResourceNotFound(f"no entity {entity_id}")
        change = Change(
            "deleted",
            tenant,
            entity_id,
            stored.type,
            tuple(stored.attrs),
            utcnow(),
            stored.place_code,
        )
        return publish(session, change)

    def flush(self, session: Session) -> None:
        """Write the session's deferred edits now (before a commit, or before a write that
        reads or writes entities another way)."""
        deferred: _Deferred | None = session.info.pop(DEFERRED, None)
        if deferred is None or not deferred.changes:
            return
        plain, located = [], []
        for key, now in deferred.at.items():
            read, stored = deferred.read[key], deferred.current[key]
            if key in deferred.located:
                row = self.store.update_params(key[0], read, stored.attrs, now, stored.type)
                located.append(row)
            else:
                plain.append(self.store.update_params(key[0], read, stored.attrs, now))
        writes = [(self.store.update_plain, plain), (self.store.update_located, located)]
        publish_many(self.store, session, deferred.changes, deferred.actors, writes)

    def _gather(self, session: Session, keys: list[tuple[str, str]]) -> None:
        """The group writer's read for its waiting jobs: their entities in one locked SELECT
        (per tenant), kept for ``_modify_deferred``."""
        deferred: _Deferred = session.info.setdefault(DEFERRED, _Deferred(self))
        wanted: dict[str, set[str]] = {}
        for key in keys:
            if key not in deferred.current and key not in deferred.missing:
                wanted.setdefault(key[0], set()).add(key[1])
        conn = session.connection()
        for tenant, ids in wanted.items():
            found = self.store.read_many(conn, tenant, sorted(ids))
            for entity_id in ids:
                stored = found.get(entity_id)
                if stored is None:
                    deferred.missing.add((tenant, entity_id))
                else:
                    deferred.read[tenant, entity_id] = deferred.current[tenant, entity_id] = stored

    def _modify_deferred(
        self, session: Session, tenant: str, entity_id: str, edit: edits.Edit
    ) -> tuple[Change | None, UpdateResult]:
        """``_modify`` in a group: edit the entity as the group left it; write at commit."""
        deferred: _Deferred = session.info.setdefault(DEFERRED, _Deferred(self))
        key = (tenant, entity_id)
        if key not in deferred.current and key not in deferred.missing and wait(session, key):
            # read with the group's other waiting jobs (``_gather``); a write in between
            # may have flushed what was gathered: then it is read again below
            deferred = session.info.setdefault(DEFERRED, _Deferred(self))
        stored = deferred.current.get(key)
        if stored is None:
            if key in deferred.missing:
                raise ResourceNotFound(f"no entity {entity_id}")
            stored = self.store.read(session.connection(), tenant, entity_id, lock=True)
            if stored is None:
                raise ResourceNotFound(f"no entity {entity_id}")
            deferred.read[key] = stored
        now = utcnow()
        done = edit(stored, timestamp(now))
        if not done.changed and done.kind is None:
            return None, done.result
        kind = done.kind or stored.type
        if self.check is not None:
            self.check(entity_id, kind, done.attrs)
        relocated = done.kind is not None or LOCATION in done.changed
        if relocated:
            Location.of(done.attrs, LOCATION)  # a bad geometry is this job's error
            deferred.located.add(key)
        deferred.current[key] = replace(stored, type=kind, attrs=done.attrs)
        deferred.at[key] = now
        attributes = tuple(done.changed)
        change = Change(
            "updated", tenant, entity_id, kind, attributes, now, stored.place_code, done.attrs
        )
        deferred.changes.append(change)
        deferred.actors.append(str(session.info.get("actor", "system")))
        return change, done.result

    def _modify(
        self,
        session: Session,
        tenant: str,
        entity_id: str,
        scope: Scope,
        edit: edits.Edit,
    ) -> tuple[Change | None, UpdateResult]:
        """Read, edit, write back guarded by the version read; retried if another writer won.
        In a group of jobs (the group writer says so) the write waits for the commit."""
        self._may_write(scope)
        if session.info.get(GROUPED):
            return self._modify_deferred(session, tenant, entity_id, edit)
        self.flush(session)
        conn = session.connection()
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.read(conn, tenant, entity_id, lock=True)
            if stored is None:
                raise ResourceNotFound(f"no entity {entity_id}")
            now = utcnow()
            done = edit(stored, timestamp(now))
            if not done.changed and done.kind is None:
                return None, done.result
            if self.check is not None:
                self.check(entity_id, done.kind or stored.type, done.attrs)
            relocated = done.kind is not None or LOCATION in done.changed
            location = Location.of(done.attrs, LOCATION) if relocated else None
            kind = done.kind or stored.type
            written = self.store.update(
                conn,
                tenant,
                stored,
                done.attrs,
                now,
                kind=kind if relocated else None,
                location=location,
            )
            if written:
                change = Change(
                    "updated",
                    tenant,
                    entity_id,
                    kind,
                    tuple(done.changed),
                    now,
                    stored.place_code,
                    done.attrs,
                )
                return publish(session, change), done.result
        raise InternalError(f"entity {entity_id} kept changing under this update; try again")

    def replace(
        self, session: Session, tenant: str, entity_id: str, entity: NewEntity, scope: Scope
    ) -> Change:
        """Replace every attribute (and the type, if given)."""
        if entity.id != entity_id:
            raise BadRequestData(f"id: the body names {entity.id}, the path {entity_id}")
        change, _ = self._modify(session, tenant, entity_id, scope, edits.replace_entity(entity))
        assert change is not None
        return change

    def append(
        self,
        session: Session,
        tenant: str,
        entity_id: str,
        attrs: Attributes,
        scope: Scope,
        *,
        overwrite: bool = True,
        only_existing: bool = False,
    ) -> tuple[Change | None, UpdateResult]:
        """Append attributes (``overwrite=False``: keep existing ones); ``only_existing``
        is the update operation, which writes only attributes the entity has."""
        edit = edits.append(attrs, overwrite=overwrite, only_existing=only_existing)
        return self._modify(session, tenant, entity_id, scope, edit)

    def patch_attribute(
        self,
        session: Session,
        tenant: str,
        entity_id: str,
        name: str,
        fragment: Any,
        terms: TermMap,
        scope: Scope,
    ) -> Change:
        """Merge a fragment into one instance (by the fragment's datasetId) of an attribute."""
        edit = edits.patch_attribute(entity_id, name, fragment, terms)
        change, _ = self._modify(session, tenant, entity_id, scope, edit)
        assert change is not None
        return change

    def replace_attribute(
        self,
        session: Session,
        tenant: str,
        entity_id: str,
        name: str,
        instances: list[Instance],
        scope: Scope,
    ) -> Change:
        """Replace the instances of an existing attribute that the body names by datasetId."""
        edit = edits.replace_attribute(entity_id, name, instances)
        change, _ = self._modify(session, tenant, entity_id, scope, edit)
        assert change is not None
        return change

    def delete_attribute(
        self,
        session: Session,
        tenant: str,
        entity_id: str,
        name: str,
        scope: Scope,
        *,
        dataset_id: str | None = None,
        delete_all: bool = False,
    ) -> Change:
        """Delete the default instance, the one with ``dataset_id``, or all of them."""
        edit = edits.delete_attribute(entity_id, name, dataset_id, delete_all)
        change, _ = self._modify(session, tenant, entity_id, scope, edit)
        assert change is not None
        return change

    def apply_edit(
        self, session: Session, tenant: str, entity_id: str, edit: edits.Edit, scope: Scope
    ) -> Change | None:
        """Run a caller's ``Edit`` in the optimistic loop (the MQTT bridge's measurements);
        None when it changed nothing."""
        change, _ = self._modify(session, tenant, entity_id, scope, edit)
        return change

    def apply_edits(
        self, session: Session, tenant: str, planned: dict[str, list[edits.Edit]], scope: Scope
    ) -> tuple[list[Change], set[str]]:
        """Edits of many entities with one read and one write for them all (the MQTT bridge's
        batches): each entity is read once, its edits run in order, each edit that changed
        something is a ``Change`` (and event). Returns the changes, and the ids left to the
        caller: not found, or refused by a check (nothing of theirs is written)."""
        self._may_write(scope)
        self.flush(session)
        conn = session.connection()
        ids = sorted(planned)  # locked in one order: concurrent batches never deadlock
        query = select(*self.store.columns).where(E.tenant == tenant, E.id.in_(ids))
        if self.store.postgres:
            query = query.order_by(E.id).with_for_update()
        found = {row.id: self.store.row(row) for row in conn.execute(query)}
        now = utcnow()
        at = timestamp(now)
        changes: list[Change] = []
        rows: list[dict[str, Any]] = []
        left = {i for i in ids if i not in found}
        for entity_id, stored in found.items():
            made: list[Change] = []
            current = stored
            for edit in planned[entity_id]:
                done = edit(current, at)
                if done.changed:
                    current = replace(current, attrs=done.attrs)
                    names = tuple(done.changed)
                    kind, place = stored.type, stored.place_code
                    made.append(
                        Change("updated", tenant, entity_id, kind, names, now, place, done.attrs)
                    )
            if not made:
                continue
            try:
                if self.check is not None:
                    self.check(entity_id, stored.type, current.attrs)
                relocated = any(LOCATION in c.attributes for c in made)
                location = Location.of(current.attrs, LOCATION) if relocated else None
                if location is not None and not self.store.update(
                    conn, tenant, stored, current.attrs, now, location=location
                ):
                    raise RuntimeError(f"entity {entity_id} changed under a batched update")
            except Problem:
                left.add(entity_id)
                continue
            if not relocated:
                rows.append(
                    {
                        "p_tenant": tenant,
                        "p_id": entity_id,
                        "p_version": stored.version,
                        "p_attrs": dumps(current.attrs),
                        "p_now": now,
                    }
                )
            changes.extend(made)
        if rows:  # one executemany of the store's version-guarded UPDATE
            written = conn.execute(self.store._update, rows).rowcount
            if conn.dialect.supports_sane_multi_rowcount and written != len(rows):
                raise RuntimeError("entities changed under a batched update; run them one by one")
        publish_many(self.store, session, changes)
        return changes, left

    def exists(self, conn: Connection, tenant: str, entity_id: str) -> bool:
        return self.store.read(conn, tenant, entity_id) is not None

    def ensure_tenant(self, session: Session, tenant: str) -> None:
        """Create the tenant (a write names it for the first time)."""
        self._ensure_tenant(session.connection(), tenant)
