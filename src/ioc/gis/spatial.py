"""Bounding-box queries with the same answers on both backends.

PostgreSQL: ``ST_Intersects`` against an envelope, which the GiST index serves. SQLite: the
R*Tree (``<table>_rtree``, kept by triggers, see migration 0012) finds the candidates whose
boxes meet the query box; a candidate whose box lies inside the query box intersects it, and
shapely decides the rest from the stored geometry. tests/gis/test_spatial.py compares them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import shapely
from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    Row,
    Select,
    Table,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from ioc.core.spatial import SRID
from ioc.gis.geometry import BBox

_RTREES = MetaData()  # not Base.metadata: virtual tables are no model of ours
_CHUNK = 500


def rtree_of(table: Table) -> Table:
    """The SQLite R*Tree of ``table`` (created by the migration), as a table to join."""
    name = f"{table.name}_rtree"
    if name not in _RTREES.tables:
        Table(
            name,
            _RTREES,
            Column("id", Integer, primary_key=True),
            *(Column(c, Float) for c in ("min_lon", "max_lon", "min_lat", "max_lat")),
        )
    return _RTREES.tables[name]


@dataclass(frozen=True, slots=True)
class Page:
    """The rows of one page of matches (in key order), and how many match in all."""

    rows: list[Row[Any]]
    matched: int


def _keyed(table: Table, keys: list[Any]) -> ColumnElement[bool]:
    """``key IN (keys)`` with the keys as one JSON parameter (SQLite), not one per key."""
    values: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(orjson.dumps(keys).decode())
    )
    return _key(table).in_(values)


def _key(table: Table) -> Column[Any]:
    column: Column[Any] = next(iter(table.primary_key.columns))
    return column


def _sqlite_matches(
    session: Session, table: Table, box: BBox, where: Sequence[ColumnElement[bool]], rtree: bool
) -> list[Any]:
    """Ids (in order) of rows whose geometry meets ``box``: R*Tree or box columns, then shapely."""
    min_lon, min_lat, max_lon, max_lat = box
    src: Any = rtree_of(table) if rtree else table
    c = src.c
    stmt: Select[Any] = select(_key(table), c.min_lon, c.min_lat, c.max_lon, c.max_lat).where(
        c.min_lon <= max_lon,
        c.max_lon >= min_lon,
        c.min_lat <= max_lat,
        c.max_lat >= min_lat,
        *where,
    )
    if rtree:
        stmt = stmt.select_from(table.join(src, src.c.id == _key(table)))
    inside: list[Any] = []
    edge: list[Any] = []
    for row in session.execute(stmt):
        # The R*Tree keeps 32-bit floats rounded outwards, so a box it finds inside the query
        # box is inside it; one that only seems to cross the edge is checked exactly below.
        held = min_lon <= row[1] and row[3] <= max_lon and min_lat <= row[2] and row[4] <= max_lat
        (inside if held else edge).append(row[0])
    if edge:
        query = shapely.box(*box)
        shapely.prepare(query)
        for start in range(0, len(edge), _CHUNK):
            chunk = edge[start : start + _CHUNK]
            rows = session.execute(
                select(_key(table), table.c.geometry).where(_key(table).in_(chunk))
            )
            ids, texts = zip(*rows, strict=True)
            geoms = shapely.from_geojson(list(texts))
            hits = shapely.intersects(query, geoms)
            inside.extend(i for i, hit in zip(ids, hits, strict=True) if hit)
    inside.sort()
    return inside


def bbox_clause(table: Table, box: BBox) -> ColumnElement[bool]:
    """The PostGIS condition: the geometry meets the box (``&&`` on the GiST index, then exact)."""
    return func.ST_Intersects(table.c.geometry, func.ST_MakeEnvelope(*box, SRID))


def page(
    session: Session,
    table: Table,
    columns: Sequence[Any],
    where: Sequence[ColumnElement[bool]],
    limit: int,
    offset: int,
    box: BBox | None = None,
    rtree: bool = True,
) -> Page:
    """``columns`` of one page (in key order) of ``table``'s rows matching ``where`` and ``box``."""
    order = _key(table)
    if box is not None and session.get_bind().dialect.name == "sqlite":
        keys = _sqlite_matches(session, table, box, where, rtree)
        wanted = keys[offset : offset + limit]
        stmt = select(*columns).where(_keyed(table, wanted)).order_by(order)
        return Page(list(session.execute(stmt)) if wanted else [], len(keys))
    clauses = list(where)
    if box is not None:
        clauses.append(bbox_clause(table, box))
    stmt = select(*columns).where(*clauses).order_by(order).limit(limit).offset(offset)
    rows = list(session.execute(stmt))
    if offset == 0 and len(rows) < limit:
        return Page(rows, len(rows))  # the whole answer is on this page: no count needed
    matched = session.scalar(select(func.count()).select_from(table).where(*clauses)) or 0
    return Page(rows, matched)
