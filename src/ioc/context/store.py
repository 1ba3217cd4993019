"""SQL of the entity table, in SQLAlchemy Core: one statement per step, compiled once.

Attributes travel as JSON text (orjson both ways) so neither SQLAlchemy nor the driver
re-encodes them; the location is GeoJSON text that PostGIS turns into geometry on the way in.
Writes are optimistic: an UPDATE names the version it read, and a concurrent writer makes it
match nothing, so the caller reads again instead of losing the other change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.dml import UpdateBase

from ioc.context.bulk import (
    COPY_FROM,
    UNNEST_FROM,
    UNNEST_LOCATED,
    UNNEST_PLAIN,
    copy_rows,
    dicts,
    plain,
    unnest_params,
    unnest_update,
)
from ioc.context.geo import LOCATION, SRID, checked_bbox
from ioc.context.models import Entity, Tenant

ENTITIES: Table = Entity.__table__  # type: ignore[assignment]
TENANTS: Table = Tenant.__table__  # type: ignore[assignment]
E = ENTITIES.c


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


Appended = tuple[Table, Sequence[str], list[tuple[Any, ...]]]  # rows to append to a table


@dataclass(slots=True)
class Stored:
    """An entity row as read: attributes decoded, version for the next optimistic write."""

    id: str
    type: str
    attrs: dict[str, list[dict[str, Any]]]
    created_at: dt.datetime
    modified_at: dt.datetime
    version: int
    place_code: str | None

    @classmethod
    def from_driver(cls, row: Sequence[Any]) -> Stored:
        """A row of ``DRIVER_FIELDS`` read straight through the driver (attrs as JSON text,
        or decoded already; times made aware UTC, as the UTCDateTime column type does for
        ORM reads)."""
        attrs = row[2]
        return cls(
            row[0],
            row[1],
            attrs if isinstance(attrs, dict) else orjson.loads(attrs),
            row[3].astimezone(dt.UTC),
            row[4].astimezone(dt.UTC),
            row[5],
            row[6],
        )


# The columns ``Stored.from_driver`` takes, in its order
DRIVER_FIELDS = ("id", "type", "attrs", "created_at", "modified_at", "version", "place_code")


def _geometry(instances: list[dict[str, Any]] | None) -> Any:
    """The GeoJSON value ``Location.of`` reads (None when it reads none)."""
    if not instances:
        return None
    instance = instances[0]
    if "datasetId" in instance:
        for other in instances:
            if "datasetId" not in other:
                instance = other
                break
    return instance.get("value") if instance.get("type") == "GeoProperty" else None


@dataclass(slots=True)
class Location:
    """What the location columns hold for an entity: GeoJSON text and its bounding box."""

    geojson: str | None = None
    box: tuple[float, float, float, float] | None = None

    @classmethod
    def of(cls, attrs: dict[str, list[dict[str, Any]]], name: str) -> Location:
        """From the default (else first) instance of the GeoProperty ``name``."""
        instances = attrs.get(name)
        if not instances:
            return cls()
        instance = next((i for i in instances if "datasetId" not in i), instances[0])
        value = instance.get("value")
        if instance.get("type") != "GeoProperty" or value is None:
            return cls()
        return cls(dumps(value), checked_bbox(value, name))

    @staticmethod
    def same(before: dict[str, list[dict[str, Any]]], after: dict[str, Any], name: str) -> bool:
        """Whether ``of`` gives the same for both: the location columns need no rewrite."""
        return bool(_geometry(before.get(name)) == _geometry(after.get(name)))

    def params(self) -> dict[str, Any]:
        box = self.box or (None, None, None, None)
        return {
            "p_location": self.geojson,
            "p_min_lon": box[0],
            "p_min_lat": box[1],
            "p_max_lon": box[2],
            "p_max_lat": box[3],
        }


class Store:
    """Prepared statements on the entity and tenant tables for one SQL dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.postgres = dialect == "postgresql"
        self._compiled: dict[tuple[int, tuple[str, ...]], tuple[str, dict[str, Any]]] = {}
        text_attrs = bindparam("p_attrs", type_=Text)
        attrs_in: ColumnElement[Any] = cast(text_attrs, JSONB) if self.postgres else text_attrs
        text_location = bindparam("p_location", type_=Text)
        location_in: ColumnElement[Any] = (
            func.ST_SetSRID(func.ST_GeomFromGeoJSON(text_location), SRID)
            if self.postgres
            else text_location
        )
        self.attrs_text = cast(E.attrs, Text).label("attrs")
        self.columns = (
            E.id,
            E.type,
            self.attrs_text,
            E.created_at,
            E.modified_at,
            E.version,
            E.place_code,
        )
        key = (E.tenant == bindparam("p_tenant")) & (E.id == bindparam("p_id"))
        self._read = select(*self.columns).where(key)
        if self.postgres:
            self._read_for_update = self._read.with_for_update()
        else:
            self._read_for_update = self._read
        dialect_insert = postgresql.insert if self.postgres else sqlite.insert
        corners = ("min_lon", "min_lat", "max_lon", "max_lat")
        box: dict[str, Any] = {c: bindparam("p_" + c) for c in corners}
        self.insert_new = (  # without RETURNING: batches count the rows it inserted
            dialect_insert(ENTITIES)
            .values(
                tenant=bindparam("p_tenant"),
                id=bindparam("p_id"),
                type=bindparam("p_type"),
                attrs=attrs_in,
                place_code=bindparam("p_place_code"),
                location=location_in,
                version=1,
                created_at=bindparam("p_now"),
                modified_at=bindparam("p_now"),
                **box,
            )
            .on_conflict_do_nothing(index_elements=["tenant", "id"])
        )
        self._insert = self.insert_new.returning(E.version)
        guarded = key & (E.version == bindparam("p_version"))
        changes = {"attrs": attrs_in, "version": E.version + 1, "modified_at": bindparam("p_now")}
        self._update = update(ENTITIES).where(guarded).values(**changes)
        self._update_located = (
            update(ENTITIES)
            .where(guarded)
            .values(**changes, type=bindparam("p_type"), location=location_in, **box)
        )
        self.update_plain, self.update_located = self._update, self._update_located
        where_ids = (
            f'FROM {ENTITIES.name} WHERE tenant = %s AND id = ANY(%b::varchar[] COLLATE "C") '
            "ORDER BY id FOR UPDATE"
        )
        self._read_many_sql = (
            "SELECT id, type, CAST(attrs AS TEXT), created_at, modified_at, version, place_code "
            + where_ids
        )
        self._read_outlines_sql = (  # the names, and the location instances as JSON text
            "SELECT id, type, ARRAY(SELECT jsonb_object_keys(attrs)), "
            f"CAST(attrs -> '{LOCATION}' AS TEXT), created_at, modified_at, version, place_code "
            + where_ids
        )
        self._peek_outlines_sql = self._read_outlines_sql.removesuffix(" FOR UPDATE")
        self._inserts: dict[str, UpdateBase] = {}
        self._unnest = {id(self._update): UNNEST_PLAIN, id(self._update_located): UNNEST_LOCATED}
        self._unnest_sql: dict[tuple[int, frozenset[str]], str] = {}
        self._delete = delete(ENTITIES).where(key)
        self._tenant_exists = select(TENANTS.c.name).where(TENANTS.c.name == bindparam("p_name"))
        self._add_tenant = (
            dialect_insert(TENANTS)
            .values(name=bindparam("p_name"), created_at=bindparam("p_now"))
            .on_conflict_do_nothing(index_elements=["name"])
        )

    def row(self, row: Any) -> Stored:
        return Stored(
            row.id,
            row.type,
            orjson.loads(row.attrs),
            row.created_at,
            row.modified_at,
            row.version,
            row.place_code,
        )

    def read(
        self, conn: Connection, tenant: str, entity_id: str, lock: bool = False
    ) -> Stored | None:
        statement = self._read_for_update if lock else self._read
        row = conn.execute(statement, {"p_tenant": tenant, "p_id": entity_id}).first()
        return self.row(row) if row is not None else None

    def insert(
        self,
        conn: Connection,
        tenant: str,
        entity_id: str,
        kind: str,
        attrs: dict[str, list[dict[str, Any]]],
        location: Location,
        now: dt.datetime,
        place_code: str | None = None,
    ) -> bool:
        """Store a new entity; False when one with that id exists."""
        params = {
            "p_tenant": tenant,
            "p_id": entity_id,
            "p_type": kind,
            "p_attrs": dumps(attrs),
            "p_place_code": place_code,
            "p_now": now,
            **location.params(),
        }
        return conn.execute(self._insert, params).first() is not None

    def update(
        self,
        conn: Connection,
        tenant: str,
        stored: Stored,
        attrs: dict[str, list[dict[str, Any]]],
        now: dt.datetime,
        *,
        kind: str | None = None,
        location: Location | None = None,
    ) -> bool:
        """Write new attributes (and type, location); False if the entity changed meanwhile."""
        params: dict[str, Any] = {
            "p_tenant": tenant,
            "p_id": stored.id,
            "p_version": stored.version,
            "p_attrs": dumps(attrs),
            "p_now": now,
        }
        if kind is None and location is None:
            return conn.execute(self._update, params).rowcount == 1
        params["p_type"] = kind or stored.type
        params.update((location or Location.of(attrs, LOCATION)).params())
        return conn.execute(self._update_located, params).rowcount == 1

    # -- many entities at once (batch operations, grouped writes) ---------------------------

    def read_many(
        self,
        conn: Connection,
        tenant: str,
        ids: list[str],
        *,
        outline: bool = False,
        lock: bool = True,
    ) -> dict[str, Stored]:
        """The entities of ``ids`` that exist, locked on PostgreSQL (in id order: concurrent
        batches never deadlock) unless ``lock`` is false (``batch.read_ahead``'s outlines).

        ``outline``: on PostgreSQL each entity's attributes are only its attribute names
        (with empty instance lists), but for its location. That is all a replace needs (what
        it removes, whether it moves) and spares decoding every stored attribute."""
        found: dict[str, Stored] = {}
        for first in range(0, len(ids), 1000):
            chunk = ids[first : first + 1000]
            if self.postgres:  # the driver itself: one binary array, the same SQL every time
                driver: Any = conn.connection.driver_connection
                with driver.cursor() as cursor:
                    if not outline:
                        cursor.execute(self._read_many_sql, (tenant, chunk))
                        for row in cursor.fetchall():
                            found[row[0]] = Stored.from_driver(row)
                        continue
                    sql = self._read_outlines_sql if lock else self._peek_outlines_sql
                    cursor.execute(sql, (tenant, chunk))
                    utc = dt.UTC
                    for (
                        eid,
                        kind,
                        names,
                        where,
                        created,
                        modified,
                        version,
                        place,
                    ) in cursor.fetchall():
                        # every name shares one empty list: an outline is read, never edited
                        attrs: dict[str, list[dict[str, Any]]] = dict.fromkeys(names, [])
                        if where is not None:
                            attrs[LOCATION] = orjson.loads(where)
                        found[eid] = Stored(
                            eid,
                            kind,
                            attrs,
                            created.astimezone(utc),
                            modified.astimezone(utc),
                            version,
                            place,
                        )
                continue
            query = select(*self.columns).where(E.tenant == tenant, E.id.in_(chunk))
            found.update((row.id, self.row(row)) for row in conn.execute(query).all())
        return found

    @staticmethod
    def insert_params(
        tenant: str,
        entity_id: str,
        kind: str,
        attrs: dict[str, list[dict[str, Any]]],
        now: dt.datetime,
        location: Location | None = None,
    ) -> dict[str, Any]:
        """``insert_new``'s parameters (``location``: as already derived from ``attrs``)."""
        return {
            "p_tenant": tenant,
            "p_id": entity_id,
            "p_type": kind,
            "p_attrs": dumps(attrs),
            "p_place_code": None,
            "p_now": now,
            **(location or Location.of(attrs, LOCATION)).params(),
        }

    @staticmethod
    def update_params(
        tenant: str,
        stored: Stored,
        attrs: dict[str, list[dict[str, Any]]],
        now: dt.datetime,
        kind: str | None = None,
        location: Location | None = None,
    ) -> dict[str, Any]:
        """The guarded UPDATE's parameters; with ``kind``, the located UPDATE's."""
        params: dict[str, Any] = {
            "p_tenant": tenant,
            "p_id": stored.id,
            "p_version": stored.version,
            "p_attrs": dumps(attrs),
            "p_now": now,
        }
        if kind is not None:
            params["p_type"] = kind
            params.update((location or Location.of(attrs, LOCATION)).params())
        return params

    def write_together(
        self,
        conn: Connection,
        batches: list[tuple[UpdateBase, list[dict[str, Any]]]],
        appends: Callable[[], Sequence[Appended]] = tuple,
    ) -> list[int]:
        """An executemany of each statement of ``batches`` (the rows each matched, in order),
        then the rows ``appends()`` builds (table, columns, values). On PostgreSQL the
        statements go in one pipeline, one round trip, many updates as one statement over
        arrays; ``appends()`` runs while the server executes them, and many appended rows go
        by ``COPY`` after."""
        if not self.postgres:
            counts = [conn.execute(s, rows).rowcount if rows else 0 for s, rows in batches]
            for table, names, values in appends():
                if values:
                    conn.execute(self._insert_into(table), dicts(names, values))
            return counts
        driver: Any = conn.connection.driver_connection
        cursors: list[Any] = []
        with driver.pipeline():
            for statement, rows in batches:
                cursors.append(self._send(conn, driver, statement, rows))
            appended = appends()  # built while the server runs what was sent
            copied = sum(len(values) for _, _, values in appended) > COPY_FROM
            if not copied:
                for table, names, values in appended:
                    cursors.append(
                        self._send(conn, driver, self._insert_into(table), dicts(names, values))
                    )
        counts = [0 if c is None else int(c.rowcount) for c in cursors[: len(batches)]]
        for cursor in cursors:
            if cursor is not None:
                cursor.close()
        if copied:
            for table, names, values in appended:
                copy_rows(conn, table, names, values)
        return counts

    def _send(
        self, conn: Connection, driver: Any, statement: UpdateBase, rows: list[dict[str, Any]]
    ) -> Any:
        """Queue ``statement`` for ``rows`` in the driver's pipeline: many updates as one
        statement over arrays, else an executemany; its cursor (None: no rows)."""
        if not rows:
            return None
        cursor = driver.cursor()
        unnest = self._unnest.get(id(statement)) if len(rows) >= UNNEST_FROM else None
        if unnest is not None:
            same, params = unnest_params(unnest, rows)
            sql = self._unnest_sql.get((id(unnest), same))
            if sql is None:
                sql = self._unnest_sql[id(unnest), same] = unnest_update(unnest, same)
            cursor.execute(sql, params)
        else:
            sql, constants = self._sql(conn, statement, rows[0])
            cursor.executemany(sql, plain(rows, constants))
        return cursor

    def _insert_into(self, table: Table) -> UpdateBase:
        """The plain INSERT of ``table``, one object per table (``_sql`` caches by it)."""
        found = self._inserts.get(table.name)
        if found is None:
            found = self._inserts[table.name] = insert(table)
        return found

    def _sql(
        self, conn: Connection, statement: UpdateBase, row: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The driver's SQL of a statement for rows shaped like ``row`` and the values of
        its own parameters (``version + 1``); compiled once."""
        key = (id(statement), tuple(row))
        found = self._compiled.get(key)
        if found is None:
            compiled = statement.compile(dialect=conn.dialect, column_keys=list(row))
            params = compiled.construct_params(_check=False)
            constants = {k: v for k, v in params.items() if k not in row}
            found = self._compiled[key] = (str(compiled), constants)
        return found

    def delete(self, conn: Connection, tenant: str, entity_id: str) -> bool:
        return conn.execute(self._delete, {"p_tenant": tenant, "p_id": entity_id}).rowcount == 1

    def tenant_exists(self, conn: Connection, name: str) -> bool:
        return conn.execute(self._tenant_exists, {"p_name": name}).first() is not None

    def add_tenant(self, conn: Connection, name: str, now: dt.datetime) -> None:
        conn.execute(self._add_tenant, {"p_name": name, "p_now": now})
