"""The NGSI-LD API at ``/ngsi-ld/v1/``: a lean ASGI app mounted before the FastAPI routers.

FastAPI's per-request machinery (dependency solving, validation, route scanning) costs more
than a device's whole update, so this path is plain ASGI: the raw path is split into
percent-decoded segments (entity ids are URIs and may hold ``/`` once encoded), the table
below picks the handler, and the handler runs on the event loop (SQLite reads needing no
network; PostgreSQL entity reads through ``async_reads``) or in one worker thread. Every error
leaves as NGSI-LD ProblemDetails.
``ioc.context.openapi`` describes these paths in the app's OpenAPI document.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from anyio import to_thread
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from ioc.context import async_reads
from ioc.context import endpoints as ep
from ioc.context import ldcontexts as lc
from ioc.context import subscriptions_api as sb
from ioc.context import temporal as tp
from ioc.context.access import Gate
from ioc.context.batch import OPERATIONS
from ioc.context.endpoints import Runtime
from ioc.context.errors import InternalError, MethodNotAllowed, ResourceNotFound, error_response
from ioc.context.http import Call
from ioc.context.service import Broker
from ioc.core.http import register_error_shape
from ioc.core.problems import Conflict, Problem, ServiceUnavailable

log = logging.getLogger("ioc.context")

PREFIX = "/ngsi-ld/v1"
Handler = Callable[[Call, Runtime], Response] | Callable[[Call, Runtime], Awaitable[Response]]
ANY = "*"  # a path segment that is a parameter

# (literal or ANY per segment) → {method: (handler, writes?)}
ROUTES: dict[tuple[str, ...], dict[str, tuple[Handler, bool]]] = {
    ("entities",): {"GET": (ep.query_entities, False), "POST": (ep.create_entity, True)},
    ("entities", ANY): {
        "GET": (ep.retrieve_entity, False),
        "PUT": (ep.replace_entity, True),
        "DELETE": (ep.delete_entity, True),
    },
    ("entities", ANY, "attrs"): {
        "POST": (ep.append_attributes, True),
        "PATCH": (ep.update_attributes, True),
    },
    ("entities", ANY, "attrs", ANY): {
        "PATCH": (ep.patch_attribute, True),
        "PUT": (ep.replace_attribute, True),
        "DELETE": (ep.delete_attribute, True),
    },
    ("entityOperations", ANY): {"POST": (ep.entity_operation, True)},
    ("types",): {"GET": (ep.list_types, False)},
    ("types", ANY): {"GET": (ep.type_info, False)},
    ("attributes",): {"GET": (ep.list_attributes, False)},
    ("attributes", ANY): {"GET": (ep.attribute_info, False)},
    ("jsonldContexts",): {"GET": (lc.list_contexts, False), "POST": (lc.add_context, True)},
    ("jsonldContexts", ANY): {
        "GET": (lc.serve_context, False),
        "DELETE": (lc.delete_context, True),
    },
    ("subscriptions",): {
        "GET": (sb.list_subscriptions, False),
        "POST": (sb.create_subscription, True),
    },
    ("subscriptions", ANY): {
        "GET": (sb.retrieve_subscription, False),
        "PATCH": (sb.update_subscription, True),
        "DELETE": (sb.delete_subscription, True),
    },
    ("temporal", "entities"): {
        "GET": (tp.query_temporal, False),
        "POST": (tp.create_temporal, True),
    },
    ("temporal", "entities", ANY): {
        "GET": (tp.retrieve_temporal, False),
        "DELETE": (tp.delete_temporal, True),
    },
    ("temporal", "entities", ANY, "attrs"): {"POST": (tp.append_temporal, True)},
    ("temporal", "entities", ANY, "attrs", ANY): {"DELETE": (tp.delete_temporal_attribute, True)},
}


def route(segments: list[str]) -> dict[str, tuple[Handler, bool]] | None:
    """The methods of the path, if it is one of ours."""
    if len(segments) == 2 and segments[0] == "entityOperations":
        return ROUTES[("entityOperations", ANY)] if segments[1] in OPERATIONS else None
    if segments[0] == "temporal":  # temporal/entities[/{id}[/attrs[/{attr}]]]
        temporal = tuple(s if i % 2 or s == "attrs" else ANY for i, s in enumerate(segments))
        return ROUTES.get(("temporal", *temporal[1:]))
    shape = tuple(s if (i % 2 == 0 or s == "attrs") else ANY for i, s in enumerate(segments))
    return ROUTES.get(shape)


def runtime(app: Any) -> Runtime:
    """The app's broker and gate, made on first use (each app has its own database)."""
    found: Runtime | None = getattr(app.state, "ngsild", None)
    if found is None:
        settings, database = app.state.settings, app.state.database
        found = Runtime(
            Broker(database, settings), Gate(database, settings), database.dialect == "sqlite"
        )
        app.state.ngsild = found
    return found


def render_error(exc: BaseException, path: str) -> Response:
    """Any failure as ProblemDetails; unexpected ones are logged and told apart from 4xx."""
    if isinstance(exc, Problem):
        return error_response(exc, path)
    if isinstance(exc, IntegrityError):
        log.info("integrity error on %s: %s", path, exc)
        return error_response(Conflict("the change conflicts with data already stored"), path)
    if isinstance(exc, OperationalError):
        log.error("database error on %s: %s", path, exc)
        return error_response(ServiceUnavailable("the database is not answering; try again"), path)
    log.exception("unhandled error on %s", path, exc_info=exc)
    return error_response(InternalError("something went wrong on our side; it is logged"), path)


class NgsiApp:
    """ASGI app for everything under ``/ngsi-ld/v1``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        request = Request(scope, receive)
        try:
            response = await self._answer(request, path)
        except Exception as exc:  # every error leaves in the spec's shape
            response = render_error(exc, path)
        tenant = request.headers.get("ngsild-tenant")
        if tenant:
            response.headers["NGSILD-Tenant"] = tenant
        await response(scope, receive, send)

    async def _answer(self, request: Request, path: str) -> Response:
        rest = path[len(PREFIX) :] if path.startswith(PREFIX) else path
        segments = [unquote(s) for s in rest.strip("/").split("/")]
        methods = route(segments)
        if methods is None:
            raise ResourceNotFound(f"{path} is not an NGSI-LD API path")
        chosen = methods.get(request.method)
        if chosen is None:
            allowed = ", ".join(sorted(methods))
            raise MethodNotAllowed(f"{request.method} is not allowed here ({allowed})")
        handler, writes = chosen
        rt = runtime(request.app)
        call = await Call.read(request, tuple(segments))
        if inspect.iscoroutinefunction(handler):  # entity writes: they queue for the writer
            response: Response = await handler(call, rt)
            return response
        if (
            not writes
            and rt.inline_reads
            and rt.broker.contexts.cached(rt.broker.contexts.key(call.context))
        ):
            return handler(call, rt)  # type: ignore[return-value]
        if not writes:  # PostgreSQL: entity reads on the loop when nothing else needs I/O
            quick = await async_reads.answer(request.app, handler, call, rt)
            if quick is not None:
                return quick
        return await to_thread.run_sync(handler, call, rt)  # type: ignore[arg-type]


def _shaped(path: str, exc: Problem) -> Response:
    return error_response(exc, path)


# Errors answered before routing (an oversized body) take the NGSI-LD shape too.
register_error_shape(PREFIX + "/", _shaped)

mount = Mount(PREFIX, app=NgsiApp())
