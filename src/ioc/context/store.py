"""SQL of the entity table, in SQLAlchemy Core: one statement per step, compiled once.

Attributes travel as JSON text (orjson both ways) so neither SQLAlchemy nor the driver
re-encodes them; the location is GeoJSON text that PostGIS turns into geometry on the way in.
Writes are optimistic: an UPDATE names the version it read, and a concurrent writer makes it
match nothing, so the caller reads again instead of losing the other change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.sql.dml import UpdateBase

from ioc.context.geo import LOCATION, SRID, checked_bbox
from ioc.context.models import Entity, Tenant

ENTITIES: Table = Entity.__table__  # type: ignore[assignment]
TENANTS: Table = Tenant.__table__  # type: ignore[assignment]
E = ENTITIES.c


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


COPY_FROM = 200  # more appended rows than this go by COPY (a few round trips, fast rows)


def _json_keys(row: dict[str, Any]) -> list[str]:
    return [k for k, v in row.items() if isinstance(v, dict | list)]


def _plain(rows: list[dict[str, Any]], constants: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for the driver itself: JSON values as text (PostgreSQL casts them)."""
    json_keys = _json_keys(rows[0])
    if not json_keys and not constants:
        return rows
    plain = []
    for row in rows:
        row = {**constants, **row}
        for key in json_keys:
            row[key] = dumps(row[key])
        plain.append(row)
    return plain


def cast_table(statement: UpdateBase) -> Table:
    """The table an INSERT writes to."""
    table: Table = statement.table  # type: ignore[assignment]
    return table


def _copy(driver: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Rows into ``table`` by ``COPY … FROM STDIN`` (JSON values as text)."""
    if not rows:
        return
    names = list(rows[0])
    json_at = [i for i, name in enumerate(names) if name in set(_json_keys(rows[0]))]
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = [row[name] for name in names]
            for i in json_at:
                values[i] = dumps(values[i])
            copy.write_row(values)


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

    def read_many(self, conn: Connection, tenant: str, ids: list[str]) -> dict[str, Stored]:
        """The entities of ``ids`` that exist, locked on PostgreSQL (in id order: concurrent
        batches never deadlock)."""
        found: dict[str, Stored] = {}
        for first in range(0, len(ids), 1000):
            chunk = ids[first : first + 1000]
            if self.postgres:  # one array parameter: the same SQL text (and plan) every time
                named = E.id == any_(literal(chunk, ARRAY(E.id.type)))
                query = select(*self.columns).where(E.tenant == tenant, named)
                query = query.order_by(E.id).with_for_update()
            else:
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
        appends: Sequence[tuple[UpdateBase, list[dict[str, Any]]]] = (),
    ) -> list[int]:
        """An executemany of each statement of ``batches`` (the rows each matched, in order),
        then the rows of ``appends``. On PostgreSQL all go in one pipeline, one round trip;
        many appended rows go by ``COPY`` instead."""
        if not self.postgres:
            counts = [conn.execute(s, rows).rowcount if rows else 0 for s, rows in batches]
            for statement, rows in appends:
                if rows:
                    conn.execute(statement, rows)
            return counts
        driver: Any = conn.connection.driver_connection
        copied = sum(len(rows) for _, rows in appends) > COPY_FROM
        cursors: list[Any] = []
        with driver.pipeline():
            for statement, rows in [*batches, *([] if copied else appends)]:
                if not rows:
                    cursors.append(None)
                    continue
                sql, constants = self._sql(conn, statement, rows[0])
                cursor = driver.cursor()
                cursor.executemany(sql, _plain(rows, constants))
                cursors.append(cursor)
        counts = [0 if c is None else int(c.rowcount) for c in cursors[: len(batches)]]
        for cursor in cursors:
            if cursor is not None:
                cursor.close()
        if copied:
            for statement, rows in appends:
                _copy(driver, cast_table(statement).name, rows)
        return counts

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
