"""Many rows in few statements on PostgreSQL: binary ``COPY`` for appended rows, and guarded
UPDATEs of many entities as one statement over arrays (``unnest``), both with binary
parameters, so neither side escapes text and the server plans one statement, not hundreds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

from ioc.context.geo import SRID
from ioc.context.models import Entity

ENTITIES: Table = Entity.__table__  # type: ignore[assignment]


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


COPY_FROM = 200  # more appended rows than this go by COPY (a few round trips, fast rows)


def dicts(names: Sequence[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in rows]


def _json_keys(row: dict[str, Any]) -> list[str]:
    return [k for k, v in row.items() if isinstance(v, dict | list)]


def plain(rows: list[dict[str, Any]], constants: dict[str, Any]) -> list[dict[str, Any]]:
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


# Binary COPY: how psycopg sends each column (JSON goes as bytes already in the server's form).
_BINARY = {
    "VARCHAR": "text",
    "TEXT": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "FLOAT": "float8",
    "DOUBLE PRECISION": "float8",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "JSONB": "bytea",
    "JSON": "bytea",
}
_JSON_PREFIX = {"JSONB": b"\x01", "JSON": b""}  # jsonb's binary form: a version byte, the text


_BINARY_TYPES: dict[tuple[str, tuple[str, ...]], tuple[list[str], dict[int, bytes]]] = {}


def _binary_types(
    dialect: Dialect, table: Table, columns: Sequence[str]
) -> tuple[list[str], dict[int, bytes]]:
    """The psycopg types of ``columns`` for a binary COPY, and the JSON ones' prefixes."""
    key = (table.name, tuple(columns))
    found = _BINARY_TYPES.get(key)
    if found is not None:
        return found
    kinds, json_at = [], {}
    for at, name in enumerate(columns):
        sql = table.c[name].type.compile(dialect=dialect).split("(")[0].split(" COLLATE")[0]
        kinds.append(_BINARY[sql])
        if sql in _JSON_PREFIX:
            json_at[at] = _JSON_PREFIX[sql]
    found = _BINARY_TYPES[key] = (kinds, json_at)
    return found


def copy_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows (values in ``columns`` order) into ``table`` by a binary ``COPY … FROM STDIN``
    (no text escaping on either side); JSON values are sent as their text."""
    if not rows:
        return
    with copy_writer(conn, table, columns) as write:
        for row in rows:
            write(row)


@contextmanager
def copy_writer(
    conn: Connection, table: Table, columns: Sequence[str]
) -> Iterator[Callable[[Sequence[Any]], None]]:
    """A binary ``COPY … FROM STDIN`` of ``table`` open for rows written one at a time; the
    driver sends them as its buffer fills, so the server stores rows while the caller works
    out the next ones. The connection runs nothing else until the block ends."""
    kinds, json_at = _binary_types(conn.dialect, table, columns)
    driver: Any = conn.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(kinds)
        if not json_at:
            yield copy.write_row
            return
        write_row = copy.write_row

        def write(row: Sequence[Any]) -> None:
            values = list(row)
            for at, prefix in json_at.items():
                value = values[at]
                if value is not None:
                    text = value.encode() if isinstance(value, str) else orjson.dumps(value)
                    values[at] = prefix + text
            write_row(values)

        yield write


# Many guarded UPDATEs as one statement over arrays (PostgreSQL): one plan, one execution.
UNNEST_FROM = 20  # fewer rows than this go by executemany
UNNEST_PLAIN = (  # (parameter, its array type) in the order the statement takes them
    ("p_tenant", "text"),
    ("p_id", "text"),
    ("p_version", "int"),
    ("p_attrs", "text"),
    ("p_now", "timestamptz"),
)
UNNEST_LOCATED = (
    *UNNEST_PLAIN,
    ("p_type", "text"),
    ("p_location", "text"),
    ("p_min_lon", "float8"),
    ("p_min_lat", "float8"),
    ("p_max_lon", "float8"),
    ("p_max_lat", "float8"),
)


def unnest_update(columns: tuple[tuple[str, str], ...], same: frozenset[str]) -> str:
    """``Store.update_plain`` (or ``update_located``) for many rows at once: the parameters
    of ``same`` (equal in every row: the tenant, the time…) once, the others as arrays."""
    # binary parameters: no text escaping on either side
    refs = {n: f"%({n})b::{kind}" if n in same else f"v.{n}" for n, kind in columns}
    varying = [(n, kind) for n, kind in columns if n not in same]
    arrays = ", ".join(f"%({n})b::{kind}[]" for n, kind in varying)
    names = ", ".join(n for n, _ in varying)
    sets = (
        f"attrs = CAST({refs['p_attrs']} AS JSONB), version = e.version + 1, "
        f"modified_at = {refs['p_now']}"
    )
    if len(columns) > len(UNNEST_PLAIN):
        sets += (
            f", type = {refs['p_type']}, "
            f"location = ST_SetSRID(ST_GeomFromGeoJSON({refs['p_location']}), {SRID}), "
            f"min_lon = {refs['p_min_lon']}, min_lat = {refs['p_min_lat']}, "
            f"max_lon = {refs['p_max_lon']}, max_lat = {refs['p_max_lat']}"
        )
    return (
        f"UPDATE {ENTITIES.name} AS e SET {sets} FROM unnest({arrays}) AS v({names}) "
        f"WHERE e.tenant = {refs['p_tenant']} AND e.id = {refs['p_id']} "
        f"AND e.version = {refs['p_version']}"
    )


def unnest_params(
    columns: tuple[tuple[str, str], ...], rows: list[dict[str, Any]]
) -> tuple[frozenset[str], dict[str, Any]]:
    """Which parameters are the same in every row, and the statement's parameters."""
    same, params = [], {}
    for name, kind in columns:
        values = [row[name] for row in rows]
        if kind == "float8":  # an array holds one type: 105 and 105.5 are both float8
            values = [None if v is None else float(v) for v in values]
        first = values[0]
        if values.count(first) == len(values):
            same.append(name)
            params[name] = first
        else:
            params[name] = values
    return frozenset(same), params
