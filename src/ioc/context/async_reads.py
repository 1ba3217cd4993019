"""PostgreSQL reads on the event loop: GET /entities/{id} and GET /entities with async psycopg.

A read through SQLAlchemy in a worker thread pays the thread hop, the pool checkout and
SQLAlchemy's execution machinery; on PostgreSQL that is most of a GET's cost. So when
everything but the rows is already known without I/O (the principal and the @context cached,
the tenant known, no place scope to resolve), the read runs here on a few psycopg
``AsyncConnection``\\ s (autocommit, server-side prepared statements), with the same SQL the
store and query runner build, compiled for psycopg. Anything else (and any driver error) goes
back to the thread path, so its answers and errors stay the only ones.

The connections belong to the loop serving the app: ``reads_task`` (a background task of the
app) makes the pool on that loop and closes every connection when the app shuts down. A
request arriving on another loop (or an app running without its lifespan) never sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy import Select, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, make_url
from starlette.responses import Response

from ioc.context import render
from ioc.context.endpoints import (
    Runtime,
    _entity_arg,
    _format,
    query_answer,
    query_entities,
    retrieve_entity,
)
from ioc.context.errors import ResourceNotFound
from ioc.context.http import Call
from ioc.context.jsonld import TermMap
from ioc.context.query import EntityQuery, names, parse_query
from ioc.context.store import DRIVER_FIELDS, E, Store, Stored
from ioc.core.auth import Principal
from ioc.core.db import Database

POOL_SIZE = 2  # per app: reads waiting for one share a SELECT; a slow query stalls no one
APPLICATION_NAME = "ioc-ngsild-reads"  # how the connections show in pg_stat_activity
STATE = "ngsild_reads"  # the app.state attribute holding the running pool


class AsyncReads:
    """Up to ``size`` psycopg async connections of one database, bound to one event loop."""

    def __init__(self, database: Database, columns: tuple[Any, ...], size: int = POOL_SIZE):
        self.loop = asyncio.get_running_loop()
        self.dialect: Dialect = database.engine.dialect
        url = make_url(database.url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)
        named = {c.name: c for c in columns}
        self.columns = tuple(named[name] for name in DRIVER_FIELDS)
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._all: set[psycopg.AsyncConnection[Any]] = set()
        self._closed = False
        key = (E.tenant == bindparam("p_tenant")) & (E.id == bindparam("p_id"))
        self.read_sql = self.sql(select(*self.columns).where(key))[0]
        ids = any_(bindparam("p_ids", type_=ARRAY(String)))
        many = (E.tenant == bindparam("p_tenant")) & (E.id == ids)
        self.read_many_sql = self.sql(select(*self.columns).where(many))[0]
        # reads of a tenant waiting for a connection, answered together once one is free
        self._waiting: dict[str, list[tuple[str, asyncio.Future[Stored | None] | None]]] = {}

    def serves(self) -> bool:
        """Usable from the running loop (connections never cross loops)."""
        return not self._closed and asyncio.get_running_loop() is self.loop

    def sql(self, statement: Select[Any]) -> tuple[str, dict[str, Any]]:
        """A Core statement as psycopg SQL text and its parameters."""
        compiled = statement.compile(
            dialect=self.dialect, compile_kwargs={"render_postcompile": True}
        )
        return str(compiled), compiled.params

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection to itself; one that failed in any way is closed, not reused."""
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._open()
            healthy = False
            try:
                yield conn
                healthy = True
            finally:
                if healthy and not self._closed and not conn.closed:
                    self._idle.append(conn)
                else:
                    self._all.discard(conn)
                    await conn.close()

    async def _open(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True, application_name=APPLICATION_NAME
        )
        if self._closed:  # the app shut down while this one was opening
            await conn.close()
            raise psycopg.OperationalError("the NGSI-LD read connections are closed")
        self._all.add(conn)
        return conn

    async def close(self) -> None:
        """Close every connection, idle or in use (the app is shutting down)."""
        self._closed = True
        self._idle.clear()
        for conn in list(self._all):
            await conn.close()
        self._all.clear()

    async def read(self, tenant: str, entity_id: str) -> Stored | None:
        """One entity; reads that arrive while every connection is busy share one SELECT."""
        waiting = self._waiting.get(tenant)
        if waiting is not None:  # a read of this tenant waits for a connection: join it
            joined: asyncio.Future[Stored | None] = self.loop.create_future()
            waiting.append((entity_id, joined))
            return await joined
        group: list[tuple[str, asyncio.Future[Stored | None] | None]] = [(entity_id, None)]
        self._waiting[tenant] = group
        try:
            async with self.connection() as conn:
                del self._waiting[tenant]
                if len(group) == 1:
                    params: dict[str, Any] = {"p_tenant": tenant, "p_id": entity_id}
                    cursor = await conn.execute(self.read_sql, params, prepare=True)
                    row = await cursor.fetchone()
                    return Stored.from_driver(row) if row is not None else None
                ids = list(dict.fromkeys(i for i, _ in group))
                params = {"p_tenant": tenant, "p_ids": ids}
                cursor = await conn.execute(self.read_many_sql, params, prepare=True)
                found = {row[0]: row for row in await cursor.fetchall()}
        except BaseException as exc:
            if self._waiting.get(tenant) is group:
                del self._waiting[tenant]
            failure = exc if isinstance(exc, psycopg.Error) else psycopg.InterfaceError(str(exc))
            for _, other in group[1:]:
                if other is not None and not other.done():
                    other.set_exception(failure)  # they take the thread path
            raise
        for other_id, other in group[1:]:
            if other is not None and not other.done():
                row = found.get(other_id)
                other.set_result(Stored.from_driver(row) if row is not None else None)
        row = found.get(entity_id)
        return Stored.from_driver(row) if row is not None else None

    async def rows(self, statement: Select[Any]) -> list[tuple[Any, ...]]:
        text, params = self.sql(statement)
        async with self.connection() as conn:
            cursor = await conn.execute(text, params)
            return await cursor.fetchall()


async def _query(
    reads: AsyncReads, rt: Runtime, tenant: str, query: EntityQuery, principal: Principal
) -> tuple[list[Stored], int | None]:
    """``QueryRunner.run`` on the async connections: one page, and the count when asked."""
    runner = rt.broker.queries
    statement = runner.statement(tenant, query, principal.scope)
    statement = statement.with_only_columns(*reads.columns)  # in the order _row reads
    python_side = (
        query.id_pattern is not None or query.attrs is not None or query.q is not None
    )  # PostgreSQL decides geo-queries in SQL
    if not python_side:
        total = None
        if query.count:
            counted = select(func.count()).select_from(statement.subquery())
            total = int((await reads.rows(counted))[0][0])
        if query.limit == 0:
            return [], total
        page = statement.order_by(E.id).limit(query.limit).offset(query.offset)
        return [Stored.from_driver(r) for r in await reads.rows(page)], total
    rows = await reads.rows(statement.order_by(E.id))
    return runner.page((Stored.from_driver(row) for row in rows), query)


async def _retrieve(
    reads: AsyncReads, call: Call, rt: Runtime, principal: Principal, terms: TermMap
) -> Response:
    fmt, sys_attrs = _format(call)
    attrs = names(call.params.get("attrs"), terms)
    entity_id = _entity_arg(call)
    stored = await reads.read(call.tenant, entity_id)
    if stored is None:  # the principal has no place scope: found means visible
        raise ResourceNotFound(f"no entity {entity_id}")
    body = render.entity(stored, terms, fmt=fmt, sys_attrs=sys_attrs, attrs=attrs)
    return call.respond(body)


async def _query_entities(
    reads: AsyncReads, call: Call, rt: Runtime, principal: Principal, terms: TermMap
) -> Response:
    query = parse_query(call.params, terms)
    found, total = await _query(reads, rt, call.tenant, query, principal)
    return query_answer(call, terms, query, found, total)


Served = Callable[[AsyncReads, Call, Runtime, Principal, TermMap], Awaitable[Response]]
HANDLERS: dict[Callable[..., Any], Served] = {
    retrieve_entity: _retrieve,
    query_entities: _query_entities,
}


async def answer(app: Any, handler: Callable[..., Any], call: Call, rt: Runtime) -> Response | None:
    """The read answered on the event loop, or None when the thread path must take it."""
    reads: AsyncReads | None = getattr(app.state, STATE, None)
    served = HANDLERS.get(handler)
    if reads is None or served is None or not reads.serves():
        return None
    principal = rt.gate.cached(call.credential)
    terms = rt.broker.contexts.cached(rt.broker.contexts.key(call.context))
    if (
        principal is None
        or terms is None
        or principal.scope.place_path is not None  # visibility needs the place tree
        or not rt.broker.knows_tenant(call.tenant)  # NonexistentTenant needs a lookup
    ):
        return None
    rt.gate.check(principal, call.tenant, write=False)
    try:
        response = await served(reads, call, rt, principal, terms)
    except psycopg.Error:
        return None  # the thread path retries it and answers (or fails) as it always has
    return response


async def reads_task(app: Any) -> None:
    """Hold the async read connections for as long as the app serves (PostgreSQL only)."""
    database: Database = app.state.database
    if database.dialect != "postgresql":
        return
    reads = AsyncReads(database, Store(database.dialect).columns)
    setattr(app.state, STATE, reads)
    try:
        await asyncio.Event().wait()
    finally:
        setattr(app.state, STATE, None)
        await reads.close()
