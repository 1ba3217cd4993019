"""The NGSI-LD operations as request handlers: ``handler(call, runtime) -> Response``.

Each handler is synchronous and does all of a request's I/O (credential, @context, SQL) in
one go, so the API pays at most one hop to a worker thread per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.responses import Response

from ioc.context import batch, discovery, render
from ioc.context.access import Gate
from ioc.context.edits import UpdateResult
from ioc.context.entities import (
    NewEntity,
    attribute_name,
    entity_id,
    parse_attribute,
    parse_attributes,
    parse_entity,
)
from ioc.context.errors import BadRequestData
from ioc.context.http import RESULTS_COUNT, Call, no_content
from ioc.context.jsonld import TermMap
from ioc.context.query import EntityQuery, names, parse_query
from ioc.context.render import FORMATS
from ioc.context.service import Broker
from ioc.context.store import Stored
from ioc.core.auth import Principal
from ioc.core.problems import Problem

T = TypeVar("T")


@dataclass(slots=True)
class Runtime:
    """What handlers share in one app: the broker, the access gate, how reads are run."""

    broker: Broker
    gate: Gate
    inline_reads: bool  # SQLite: a read runs on the event loop when it needs no network

    def allow(self, call: Call, write: bool) -> Principal:
        principal = self.gate.principal(call.credential)
        self.gate.check(principal, call.tenant, write)
        return principal

    def terms(self, call: Call) -> TermMap:
        return self.broker.contexts.term_map(call.context)

    def _prepared(self, call: Call, write: bool) -> tuple[Principal, TermMap]:
        return self.allow(call, write), self.terms(call)

    async def prepare(self, call: Call, write: bool = True) -> tuple[Principal, TermMap]:
        """Who asks and their @context: on the event loop when cached, else in a thread."""
        principal = self.gate.cached(call.credential)
        terms = self.broker.contexts.cached(self.broker.contexts.key(call.context))
        if principal is None or terms is None:
            return await to_thread.run_sync(self._prepared, call, write)
        self.gate.check(principal, call.tenant, write)
        return principal, terms

    async def write(self, call: Call, principal: Principal, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the broker's next group commit."""
        return await self.broker.writer.run(work, principal.actor, call.request_id)

    def parse(self, call: Call, item: Any, need_type: bool = True) -> NewEntity:
        """An entity of a body, with its own @context for JSON-LD batches."""
        context = item.get("@context") if call.ld_body and isinstance(item, dict) else call.link
        return parse_entity(item, self.broker.contexts.term_map(context), need_type=need_type)


def _format(call: Call) -> tuple[str, bool]:
    fmt = call.params.get("format")
    if fmt is None:
        if call.option("keyValues") or call.option("simplified"):
            fmt = "keyValues"
        elif call.option("concise"):
            fmt = "concise"
        else:
            fmt = "normalized"
    elif fmt == "simplified":
        fmt = "keyValues"
    if fmt not in FORMATS:
        raise BadRequestData(f"format: one of {', '.join(FORMATS)}")
    return fmt, call.option("sysAttrs")


def _entity_arg(call: Call) -> str:
    return entity_id(call.args[1], "entityId")


def _object_body(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise BadRequestData("the body must be a JSON object")
    return call.body


def _update_result(result: UpdateResult, terms: TermMap) -> dict[str, Any]:
    return {
        "updated": [terms.compact(n) for n in result.updated],
        "notUpdated": [
            {"attributeName": terms.compact(n), "reason": reason}
            for n, reason in result.not_updated
        ],
    }


# -- entities ----------------------------------------------------------------------------


def retrieve_entity(call: Call, rt: Runtime) -> Response:
    principal = rt.allow(call, write=False)
    terms = rt.terms(call)
    fmt, sys_attrs = _format(call)
    attrs = names(call.params.get("attrs"), terms)
    with rt.broker.reader.connect() as conn:
        stored = rt.broker.retrieve(conn, call.tenant, _entity_arg(call), principal.scope)
    body = render.entity(stored, terms, fmt=fmt, sys_attrs=sys_attrs, attrs=attrs)
    return call.respond(body)


def query_entities(call: Call, rt: Runtime) -> Response:
    principal = rt.allow(call, write=False)
    terms = rt.terms(call)
    query = parse_query(call.params, terms)
    with rt.broker.reader.connect() as conn:
        found, total = rt.broker.query(conn, call.tenant, query, principal.scope)
    return query_answer(call, terms, query, found, total)


def query_answer(
    call: Call, terms: TermMap, query: EntityQuery, found: list[Stored], total: int | None
) -> Response:
    """The entities a query found, rendered as the call asks, with the count header if any."""
    fmt, sys_attrs = _format(call)
    context = call.answer_context if call.accept.endswith("ld+json") else None
    body = [
        render.entity(s, terms, fmt=fmt, sys_attrs=sys_attrs, attrs=query.attrs, context=context)
        for s in found
    ]
    headers = {RESULTS_COUNT: str(total)} if total is not None else None
    return call.respond(body, headers=headers)


async def create_entity(call: Call, rt: Runtime) -> Response:
    principal, terms = await rt.prepare(call)
    entity = parse_entity(_object_body(call), terms)
    await rt.write(
        call, principal, lambda s: rt.broker.create(s, call.tenant, entity, principal.scope)
    )
    return no_content(201, {"Location": call.location("entities", entity.id)})


async def replace_entity(call: Call, rt: Runtime) -> Response:
    principal, terms = await rt.prepare(call)
    eid = _entity_arg(call)
    body = dict(_object_body(call))
    body.setdefault("id", eid)
    entity = parse_entity(body, terms, need_type=False)
    await rt.write(
        call, principal, lambda s: rt.broker.replace(s, call.tenant, eid, entity, principal.scope)
    )
    return no_content()


async def delete_entity(call: Call, rt: Runtime) -> Response:
    principal, _ = await rt.prepare(call)
    eid = _entity_arg(call)
    await rt.write(
        call, principal, lambda s: rt.broker.delete(s, call.tenant, eid, principal.scope)
    )
    return no_content()


async def _write_attributes(call: Call, rt: Runtime, *, append: bool) -> Response:
    principal, terms = await rt.prepare(call)
    eid = _entity_arg(call)
    attrs = parse_attributes(_object_body(call), terms)
    if not attrs:
        raise BadRequestData("the body names no attribute")
    overwrite = not (append and call.option("noOverwrite"))

    def work(session: Session) -> UpdateResult:
        _, result = rt.broker.append(
            session,
            call.tenant,
            eid,
            attrs,
            principal.scope,
            overwrite=overwrite,
            only_existing=not append,
        )
        return result

    result = await rt.write(call, principal, work)
    if result.not_updated:
        return call.respond(_update_result(result, terms), status=207)
    return no_content()


async def append_attributes(call: Call, rt: Runtime) -> Response:
    return await _write_attributes(call, rt, append=True)


async def update_attributes(call: Call, rt: Runtime) -> Response:
    return await _write_attributes(call, rt, append=False)


async def patch_attribute(call: Call, rt: Runtime) -> Response:
    principal, terms = await rt.prepare(call)
    eid = _entity_arg(call)
    name = attribute_name(call.args[3], terms)
    fragment = {k: v for k, v in _object_body(call).items() if k != "@context"}
    await rt.write(
        call,
        principal,
        lambda s: rt.broker.patch_attribute(
            s, call.tenant, eid, name, fragment, terms, principal.scope
        ),
    )
    return no_content()


async def replace_attribute(call: Call, rt: Runtime) -> Response:
    principal, terms = await rt.prepare(call)
    eid = _entity_arg(call)
    name = attribute_name(call.args[3], terms)
    body = call.body
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "@context"}
    instances = parse_attribute(body, call.args[3], terms)
    await rt.write(
        call,
        principal,
        lambda s: rt.broker.replace_attribute(
            s, call.tenant, eid, name, instances, principal.scope
        ),
    )
    return no_content()


async def delete_attribute(call: Call, rt: Runtime) -> Response:
    principal, terms = await rt.prepare(call)
    eid = _entity_arg(call)
    name = attribute_name(call.args[3], terms)
    dataset = call.params.get("datasetId")
    if dataset is not None:
        dataset = entity_id(dataset, "datasetId")
    delete_all = call.params.get("deleteAll") == "true"
    await rt.write(
        call,
        principal,
        lambda s: rt.broker.delete_attribute(
            s,
            call.tenant,
            eid,
            name,
            principal.scope,
            dataset_id=dataset,
            delete_all=delete_all,
        ),
    )
    return no_content()


async def entity_operation(call: Call, rt: Runtime) -> Response:
    """POST /entityOperations/{create,upsert,update,delete}."""
    operation = call.args[1]
    options = frozenset(o.strip() for o in call.params.get("options", "").split(",") if o)

    def prepare() -> tuple[Principal, list[batch.Item], dict[str, Stored] | None]:
        principal = rt.allow(call, write=True)
        items = batch.check(call.body, rt.broker.max_batch)
        ahead = batch.read_ahead(rt.broker, call.tenant, operation, options, items)
        parsed: list[batch.Item] = []
        for item in items:
            try:
                parsed.append(
                    entity_id(item, "entity id")
                    if operation == "delete"
                    else rt.parse(call, item, operation != "update")
                )
            except Problem as problem:
                parsed.append(batch.Failed(batch.id_of(item), problem))
        return principal, parsed, ahead.result() if ahead is not None else None

    # Every entity may bring its own @context: parsing may load some, so it runs in a thread.
    principal, parsed, seen = await to_thread.run_sync(prepare)
    result = await rt.write(
        call,
        principal,
        lambda s: batch.run(
            rt.broker, s, call.tenant, operation, parsed, principal.scope, options, seen
        ),
    )
    if result.errors:
        return call.respond(result.to_dict(), status=207)
    if operation == "create" or (operation == "upsert" and result.created):
        return call.respond(result.created, status=201)
    return no_content()


# -- discovery ---------------------------------------------------------------------------


def _catalogue(call: Call, rt: Runtime) -> tuple[discovery.Catalogue, TermMap]:
    principal = rt.allow(call, write=False)
    terms = rt.terms(call)
    with rt.broker.reader.connect() as conn:
        rt.broker.check_tenant(conn, call.tenant)
        found = discovery.catalogue(conn, rt.broker.store.dialect, call.tenant, principal.scope)
    return found, terms


def list_types(call: Call, rt: Runtime) -> Response:
    found, terms = _catalogue(call, rt)
    return call.respond(discovery.types(found, terms, call.params.get("details") == "true"))


def type_info(call: Call, rt: Runtime) -> Response:
    found, terms = _catalogue(call, rt)
    return call.respond(discovery.type_info(found, terms, terms.expand(call.args[1])))


def list_attributes(call: Call, rt: Runtime) -> Response:
    found, terms = _catalogue(call, rt)
    details = call.params.get("details") == "true"
    return call.respond(discovery.attributes(found, terms, details))


def attribute_info(call: Call, rt: Runtime) -> Response:
    found, terms = _catalogue(call, rt)
    return call.respond(discovery.attribute_info(found, terms, terms.expand(call.args[1])))
