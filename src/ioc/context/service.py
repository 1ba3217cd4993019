"""The NGSI-LD broker's entity operations: framework-neutral, names already expanded.

The HTTP API calls these, and so will the MQTT bridge and the importers. Reads take a
connection; writes take a session (its transaction also holds the events) and return the
``Change`` they made, which is what the temporal store and subscriptions will consume.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from ioc.context import edits
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
from ioc.context.store import Location, Store, Stored
from ioc.context.writer import GroupWriter
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from ioc.core.events import emit
from ioc.core.models import Place
from ioc.core.problems import Forbidden
from ioc.core.scope import Scope

DEFAULT_TENANT = "default"
MAX_ATTEMPTS = 5  # optimistic writes retried when another writer got there first


@dataclass(frozen=True, slots=True)
class Change:
    """What one write did to one entity: the seam for the temporal store and subscriptions."""

    kind: str  # created | updated | deleted
    tenant: str
    id: str
    type: str
    attributes: tuple[str, ...]  # expanded names written or removed
    at: dt.datetime
    place_code: str | None = None
    attrs: Attributes | None = None  # the entity's attributes after the change

    def event_data(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "id": self.id,
            "type": self.type,
            "attributes": list(self.attributes),
        }


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
        self.writer = GroupWriter(database.sessionmaker, name="ngsi-ld-writer")
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

    def _publish(self, session: Session, change: Change) -> Change:
        emit(
            session,
            f"entity.{change.kind}",
            change.event_data(),
            subject=change.id[:200],
            place_code=change.place_code,
        )
        return change

    def create(self, session: Session, tenant: str, entity: NewEntity, scope: Scope) -> Change:
        """Store a new entity (AlreadyExists if the id is taken in this tenant)."""
        self._may_write(scope)
        if entity.type is None:
            raise BadRequestData("type: an entity needs a type")
        conn = session.connection()
        self._ensure_tenant(conn, tenant)
        now = utcnow()
        attrs = edits.stamp_all(entity.attrs, timestamp(now))
        location = Location.of(attrs, LOCATION)
        if not self.store.insert(conn, tenant, entity.id, entity.type, attrs, location, now):
            raise AlreadyExists(f"entity {entity.id} already exists")
        change = Change("created", tenant, entity.id, entity.type, tuple(attrs), now, None, attrs)
        return self._publish(session, change)

    def delete(self, session: Session, tenant: str, entity_id: str, scope: Scope) -> Change:
        self._may_write(scope)
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
        return self._publish(session, change)

    def _modify(
        self,
        session: Session,
        tenant: str,
        entity_id: str,
        scope: Scope,
        edit: edits.Edit,
    ) -> tuple[Change | None, UpdateResult]:
        """Read, edit, write back guarded by the version read; retried if another writer won."""
        self._may_write(scope)
        conn = session.connection()
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.read(conn, tenant, entity_id, lock=True)
            if stored is None:
                raise ResourceNotFound(f"no entity {entity_id}")
            now = utcnow()
            done = edit(stored, timestamp(now))
            if not done.changed and done.kind is None:
                return None, done.result
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
                return self._publish(session, change), done.result
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

    def exists(self, conn: Connection, tenant: str, entity_id: str) -> bool:
        return self.store.read(conn, tenant, entity_id) is not None

    def ensure_tenant(self, session: Session, tenant: str) -> None:
        """Create the tenant (a write names it for the first time)."""
        self._ensure_tenant(session.connection(), tenant)
