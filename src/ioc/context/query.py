"""GET /entities: parameters → one SQL query, then what SQL cannot say checked in Python.

SQL narrows by tenant, id, type, an ``idPattern``'s literal prefix, the caller's scope and
the geo-query (PostGIS on PostgreSQL; bounding boxes on SQLite); ``q``, ``idPattern``,
``attrs`` and SQLite's exact geometry test run on the rows that remain, so both backends
give the same answer. Pages are ordered by entity id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from sqlalchemy import ColumnElement, Connection, Select, func, select

from ioc.context import qlang
from ioc.context.entities import entity_id
from ioc.context.errors import BadRequestData, TooManyResults
from ioc.context.geo import LOCATION, SRID, GeoQuery, parse_geoquery
from ioc.context.jsonld import TermMap
from ioc.context.store import E, Store, Stored
from ioc.core.scope import Scope

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
_LITERAL_PREFIX = re.compile(r"^\^((?:[A-Za-z0-9_:\-/]|\\\.)+)")


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """What a client asked of GET /entities, names expanded."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] | None = None  # None = any type; () = no type can match
    id_pattern: re.Pattern[str] | None = None
    q: qlang.Node | None = None
    attrs: frozenset[str] | None = None
    geo: GeoQuery | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestData(f"{name}: {raw!r} is not a whole number") from None
    if value < 0:
        raise BadRequestData(f"{name}: must not be negative")
    return value


def _types(raw: str, terms: TermMap) -> tuple[str, ...]:
    """``A,B``/``A|B`` are alternatives; ``A;B`` needs both (impossible with one type each)."""
    found: list[str] = []
    for alternative in re.split(r"[,|]", raw.replace("(", "").replace(")", "")):
        names = {terms.expand(n.strip()) for n in alternative.split(";") if n.strip()}
        if not names:
            raise BadRequestData(f"type: {raw!r} has an empty type name")
        if len(names) == 1:
            found.append(names.pop())
    return tuple(dict.fromkeys(found))


def names(raw: str | None, terms: TermMap) -> frozenset[str] | None:
    """An ``attrs``-like comma-separated list of names, expanded."""
    if raw is None:
        return None
    items = [n.strip() for n in raw.split(",") if n.strip()]
    if not items:
        raise BadRequestData("attrs: give at least one attribute name")
    return frozenset(terms.expand(n) for n in items)


def parse_query(params: Mapping[str, str], terms: TermMap) -> EntityQuery:
    """The query of GET /entities; BadRequestData naming the parameter at fault."""
    limit = _int(params, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise TooManyResults(f"limit: at most {MAX_LIMIT} entities per page")
    count = params.get("count") == "true"
    if limit == 0 and not count:
        raise BadRequestData("limit: 0 is only allowed with count=true")
    pattern = params.get("idPattern")
    try:
        id_pattern = re.compile(pattern) if pattern is not None else None
    except re.error as exc:
        raise BadRequestData(f"idPattern: not a regular expression ({exc})") from None
    raw_ids = params.get("id")
    ids = tuple(entity_id(i.strip(), "id") for i in raw_ids.split(",")) if raw_ids else ()
    raw_type = params.get("type")
    q_text = params.get("q")
    query = EntityQuery(
        ids=ids,
        types=_types(raw_type, terms) if raw_type else None,
        id_pattern=id_pattern,
        q=qlang.parse(q_text, terms) if q_text else None,
        attrs=names(params.get("attrs"), terms),
        geo=parse_geoquery(params, terms),
        limit=limit,
        offset=_int(params, "offset", 0),
        count=count,
    )
    selectors = (query.ids, query.types, query.id_pattern, query.q, query.attrs, query.geo)
    if all(s is None or s == () for s in selectors) and query.types is None:
        raise BadRequestData(
            "too broad: give type, id, idPattern, attrs, q or a geo-query to select entities"
        )
    return query


def _geometry_column(geo: GeoQuery) -> Any:
    if geo.geoproperty == LOCATION:
        return E.location
    return func.ST_SetSRID(func.ST_GeomFromGeoJSON(E.attrs[geo.geoproperty][0]["value"]), SRID)


def _shape(stored: Stored, geo: GeoQuery) -> Any:
    instances = stored.attrs.get(geo.geoproperty) or []
    if geo.geoproperty == LOCATION:
        instances = [i for i in instances if "datasetId" not in i] or instances
    if not instances or instances[0].get("type") != "GeoProperty":
        return None
    return shape(instances[0]["value"])


class QueryRunner:
    """Runs entity queries against one store (one dialect)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def statement(self, tenant: str, query: EntityQuery, scope: Scope) -> Select[Any]:
        conditions: list[ColumnElement[bool]] = [E.tenant == tenant]
        if query.ids:
            conditions.append(E.id.in_(query.ids))
        if query.types is not None:
            conditions.append(E.type.in_(query.types))
        if query.id_pattern is not None:
            prefix = _LITERAL_PREFIX.match(query.id_pattern.pattern)
            if prefix is not None:
                literal = prefix[1].replace("\\.", ".")
                escaped = literal.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                conditions.append(E.id.like(escaped + "%", escape="\\"))
        if not scope.unrestricted:
            conditions.append(scope.where(place=E.place_code))
        geo = query.geo
        if geo is not None:
            if self.store.postgres:
                conditions.append(geo.postgis(_geometry_column(geo)))
            elif geo.geoproperty == LOCATION and (window := geo.window()) is not None:
                minx, miny, maxx, maxy = window
                conditions += [
                    E.min_lon <= maxx,
                    E.max_lon >= minx,
                    E.min_lat <= maxy,
                    E.max_lat >= miny,
                ]
        return select(*self.store.columns).where(*conditions)

    def _keeps(self, stored: Stored, query: EntityQuery) -> bool:
        if query.id_pattern is not None and not query.id_pattern.search(stored.id):
            return False
        if query.attrs is not None and query.attrs.isdisjoint(stored.attrs):
            return False
        if query.q is not None and not qlang.matches(query.q, stored.attrs):
            return False
        if query.geo is not None and not self.store.postgres:
            geometry = _shape(stored, query.geo)
            if geometry is None or not query.geo.test(geometry):
                return False
        return True

    def run(
        self, conn: Connection, tenant: str, query: EntityQuery, scope: Scope
    ) -> tuple[list[Stored], int | None]:
        """One page of matching entities, and how many match in all when ``count`` asks."""
        statement = self.statement(tenant, query, scope)
        python_side = (
            query.id_pattern is not None
            or query.attrs is not None
            or query.q is not None
            or (query.geo is not None and not self.store.postgres)
        )
        if not python_side:
            total = None
            if query.count:
                counted = select(func.count()).select_from(statement.subquery())
                total = int(conn.execute(counted).scalar_one())
            if query.limit == 0:
                return [], total
            page = statement.order_by(E.id).limit(query.limit).offset(query.offset)
            return [self.store.row(r) for r in conn.execute(page)], total
        rows = conn.execute(statement.order_by(E.id))
        return self.page((self.store.row(row) for row in rows), query)

    def page(
        self, candidates: Iterable[Stored], query: EntityQuery
    ) -> tuple[list[Stored], int | None]:
        """The page of ``candidates`` (in id order) that the Python-side tests keep, and
        how many they keep in all when ``count`` asks (else it stops at the page's end)."""
        kept: list[Stored] = []
        matched = 0
        end = query.offset + query.limit
        for stored in candidates:
            if not self._keeps(stored, query):
                continue
            if query.offset <= matched < end:
                kept.append(stored)
            matched += 1
            if matched >= end and not query.count:
                break
        return kept, matched if query.count else None
