"""/jsonldContexts: list, add (host, or preload a remote URL), serve and delete @contexts."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from ioc.context.endpoints import Runtime
from ioc.context.errors import BadRequestData
from ioc.context.http import JSON_LD, Call, no_content

MANAGERS = ("admin", "operator", "connector")  # devices use contexts, they do not manage them


def _manager(call: Call, rt: Runtime) -> str:
    principal = rt.allow(call, write=True)
    if principal.kind != "anonymous":
        principal.require(*MANAGERS)
    return principal.actor


def list_contexts(call: Call, rt: Runtime) -> Response:
    rt.allow(call, write=False)
    with rt.broker.database.sessionmaker() as session:
        found = rt.broker.contexts.listing(session, call.params.get("kind"))
    if call.params.get("details") == "true":
        return call.respond([info.to_dict() for info in found])
    return call.respond([info.url for info in found])


def add_context(call: Call, rt: Runtime) -> Response:
    """The spec's POST (a posted document becomes Hosted) or ``?url=`` to preload a remote one."""
    actor = _manager(call, rt)
    url = call.params.get("url")
    origin = f"{call.request.url.scheme}://{call.request.url.netloc}"
    with rt.broker.writing(actor, call.request_id) as session:
        if url:
            row = rt.broker.contexts.preload(session, url, call.body)
        elif call.body is None:
            raise BadRequestData("post an @context document, or give ?url= to preload one")
        else:
            row = rt.broker.contexts.host(session, call.body, origin)
        local_id, kind = row.local_id, row.kind
    rt.broker.contexts.forget(row.url)
    location = call.location("jsonldContexts", local_id)
    return no_content(201, {"Location": location, "NGSILD-Context-Kind": kind})


def serve_context(call: Call, rt: Runtime) -> Response:
    """A context document (public: clients and other brokers read vocabularies unasked)."""
    with rt.broker.database.sessionmaker() as session:
        info, document = rt.broker.contexts.find(session, call.args[1])
    if call.params.get("details") == "true":
        return call.respond(info.to_dict())
    return Response(orjson.dumps(document), media_type=JSON_LD)


def delete_context(call: Call, rt: Runtime) -> Response:
    actor = _manager(call, rt)
    with rt.broker.writing(actor, call.request_id) as session:
        rt.broker.contexts.remove(session, call.args[1], call.params.get("reload") == "true")
    return no_content()
