"""The NGSI-LD Temporal API (``/temporal/entities``) as request handlers.

Reads take the same selectors as ``GET /entities`` (``type``, ``id``, ``idPattern``,
``attrs``; ``q`` and geo-queries select by the entities' current state) plus the temporal
parameters of ``ioc.context.temporal_params``. Writes add or remove history only; the
entities themselves are changed through ``/entities``, whose every write is recorded.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from anyio import to_thread
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.responses import Response

from ioc.context import temporal_read, temporal_render, temporal_store
from ioc.context.endpoints import Runtime
from ioc.context.entities import (
    ENTITY_MEMBERS,
    Instance,
    attribute_name,
    entity_id,
    entity_type,
    parse_instance,
)
from ioc.context.errors import BadRequestData, ResourceNotFound
from ioc.context.http import RESULTS_COUNT, Call, no_content
from ioc.context.jsonld import TermMap
from ioc.context.query import MAX_LIMIT, parse_query
from ioc.context.render import timestamp
from ioc.context.temporal_params import TemporalQuery, parse_temporal
from ioc.core.db import utcnow
from ioc.core.problems import Forbidden
from ioc.core.scope import Scope


def _answer(
    conn: Connection, call: Call, rt: Runtime, ids: list[str], tq: TemporalQuery, terms: TermMap
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The temporal entities ``ids`` and any Content-Range header of a partial answer."""
    if not ids:
        return [], {}
    if tq.aggregated:
        buckets = temporal_read.aggregate(conn, call.tenant, ids, tq, rt.broker.store.postgres)
        return temporal_render.aggregated(buckets, ids, tq, terms), {}
    rows, truncated = temporal_read.instances(conn, call.tenant, ids, tq)
    headers: dict[str, str] = {}
    if truncated and rows:
        first = timestamp(min(r.time for r in rows))
        last = timestamp(max(r.time for r in rows))
        headers["Content-Range"] = f"date-time {first}-{last}/*"
    return temporal_render.entities(rows, ids, tq, terms), headers


async def retrieve_temporal(call: Call, rt: Runtime) -> Response:
    """GET /temporal/entities/{id}, in a worker thread even on SQLite (reads can be long)."""
    return await to_thread.run_sync(_retrieve, call, rt)


async def query_temporal(call: Call, rt: Runtime) -> Response:
    """GET /temporal/entities: a page of temporal entities, ordered by id."""
    return await to_thread.run_sync(_query, call, rt)


def _retrieve(call: Call, rt: Runtime) -> Response:
    principal = rt.allow(call, write=False)
    terms = rt.terms(call)
    tq = parse_temporal(call.params, terms)
    eid = entity_id(call.args[2], "entityId")
    with rt.broker.reader.connect() as conn:
        rt.broker.check_tenant(conn, call.tenant)
        kind = temporal_store.entity_type(conn, call.tenant, eid)
        if kind is None or not temporal_read.visible(conn, call.tenant, eid, principal.scope):
            raise ResourceNotFound(f"no temporal history of entity {eid}")
        found, headers = _answer(conn, call, rt, [eid], tq, terms)
    body = found[0] if found else {"id": eid, "type": terms.compact(kind)}
    return call.respond(body, status=206 if headers else 200, headers=headers)


def _query(call: Call, rt: Runtime) -> Response:
    principal = rt.allow(call, write=False)
    terms = rt.terms(call)
    tq = parse_temporal(call.params, terms)
    query = parse_query(call.params, terms)
    with rt.broker.reader.connect() as conn:
        rt.broker.check_tenant(conn, call.tenant)
        ids = list(query.ids)
        if query.q is not None or query.geo is not None:  # by the entities as they are now
            current = dataclasses.replace(query, attrs=None, limit=MAX_LIMIT, offset=0, count=False)
            found, _ = rt.broker.query(conn, call.tenant, current, principal.scope)
            ids = [s.id for s in found]
            if not ids:
                return call.respond([], headers={RESULTS_COUNT: "0"} if query.count else None)
        page, total = temporal_read.entity_page(
            conn,
            call.tenant,
            tq,
            principal.scope,
            ids=ids,
            types=query.types,
            id_pattern=query.id_pattern,
            limit=query.limit,
            offset=query.offset,
            count=query.count,
        )
        body, headers = _answer(conn, call, rt, page, tq, terms)
    if call.accept.endswith("ld+json"):
        body = [{**entity, "@context": call.answer_context} for entity in body]
    if total is not None:
        headers[RESULTS_COUNT] = str(total)
    return call.respond(body, status=206 if "Content-Range" in headers else 200, headers=headers)


# -- writes ------------------------------------------------------------------------------


def _may_write(scope: Scope) -> None:
    if scope.place_path is not None:
        raise Forbidden("a place-scoped key or user cannot write NGSI-LD history")


def _instances(doc: dict[str, Any], terms: TermMap) -> dict[str, list[Instance]]:
    """A temporal body's attributes: each an instance or an array of instances over time."""
    attrs: dict[str, list[Instance]] = {}
    for name, raw in doc.items():
        if name in ENTITY_MEMBERS:
            continue
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise BadRequestData(f"{name}: give at least one instance")
        attrs[attribute_name(name, terms)] = [parse_instance(i, name, terms) for i in items]
    if not attrs:
        raise BadRequestData("the body names no attribute")
    return attrs


def _body(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise BadRequestData("the body must be a JSON object")
    return call.body


async def create_temporal(call: Call, rt: Runtime) -> Response:
    """POST /temporal/entities: create a temporal entity (201) or add to its history (204)."""
    principal, terms = await rt.prepare(call)
    _may_write(principal.scope)
    doc = _body(call)
    eid = entity_id(doc.get("id", doc.get("@id")))
    raw_type = doc.get("type", doc.get("@type"))
    if raw_type is None:
        raise BadRequestData("type: a temporal entity needs a type")
    kind = entity_type(raw_type, terms)
    attrs = _instances(doc, terms)

    def work(session: Session) -> bool:
        rt.broker.ensure_tenant(session, call.tenant)
        conn = session.connection()
        existed = temporal_store.entity_type(conn, call.tenant, eid) is not None
        temporal_store.add_instances(conn, call.tenant, eid, kind, attrs, utcnow())
        return existed

    if await rt.write(call, principal, work):
        return no_content()
    return no_content(201, {"Location": call.location("temporal", "entities", eid)})


async def append_temporal(call: Call, rt: Runtime) -> Response:
    """POST /temporal/entities/{id}/attrs: add instances to an entity's history."""
    principal, terms = await rt.prepare(call)
    _may_write(principal.scope)
    eid = entity_id(call.args[2], "entityId")
    attrs = _instances(_body(call), terms)

    def work(session: Session) -> None:
        conn = session.connection()
        kind = temporal_store.entity_type(conn, call.tenant, eid)
        if kind is None:
            raise ResourceNotFound(f"no temporal history of entity {eid}")
        temporal_store.add_instances(conn, call.tenant, eid, kind, attrs, utcnow())

    await rt.write(call, principal, work)
    return no_content()


async def delete_temporal(call: Call, rt: Runtime) -> Response:
    """DELETE /temporal/entities/{id}: forget the entity's whole history."""
    principal, _ = await rt.prepare(call)
    _may_write(principal.scope)
    eid = entity_id(call.args[2], "entityId")

    def work(session: Session) -> None:
        if not temporal_store.delete_history(session.connection(), call.tenant, eid):
            raise ResourceNotFound(f"no temporal history of entity {eid}")

    await rt.write(call, principal, work)
    return no_content()


async def delete_temporal_attribute(call: Call, rt: Runtime) -> Response:
    """DELETE /temporal/entities/{id}/attrs/{attr}: the default instance's history, the
    ``datasetId``'s, or every dataset's with ``deleteAll=true``."""
    principal, terms = await rt.prepare(call)
    _may_write(principal.scope)
    eid = entity_id(call.args[2], "entityId")
    name = attribute_name(call.args[4], terms)
    dataset = call.params.get("datasetId")
    if dataset is not None:
        dataset = entity_id(dataset, "datasetId")
    every = call.params.get("deleteAll") == "true"

    def work(session: Session) -> None:
        deleted = temporal_store.delete_history(
            session.connection(), call.tenant, eid, name, dataset, every_dataset=every
        )
        if not deleted:
            raise ResourceNotFound(f"no history of {call.args[4]} in entity {eid}")

    await rt.write(call, principal, work)
    return no_content()
