"""HTTP plumbing of the core: problem+json handlers, body-size limit, request ids."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ioc.core.problems import (
    PROBLEM_BASE,
    PROBLEM_MEDIA_TYPE,
    Conflict,
    MalformedBody,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
)

log = logging.getLogger("ioc.http")
# Every pooled database connection stayed busy for the pool's whole timeout.
BUSY = ServiceUnavailable(
    "the server is too busy to answer now; try again in a few seconds",
    headers={"Retry-After": "5"},
)

STATUS_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid field",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


# Standards that fix their own error shape (Open311, NGSI-LD) register a renderer for their path
# prefix, so that errors answered before routing (an oversized body) take that shape too.
ErrorShape = Callable[[str, Problem], Response]
_error_shapes: dict[str, ErrorShape] = {}


def register_error_shape(prefix: str, render: ErrorShape) -> None:
    """Errors the middleware answers for paths under ``prefix`` are rendered by ``render``."""
    _error_shapes[prefix] = render


def early_problem(path: str, exc: Problem) -> Response:
    """An error answered before routing: problem+json, or the shape registered for the path."""
    for prefix, render in _error_shapes.items():
        if path.startswith(prefix):
            return render(path, exc)
    return problem_response(exc.status, exc.to_dict(path), exc.headers)


def _problem(request: Request, exc: Problem) -> Response:
    return problem_response(exc.status, exc.to_dict(request.url.path), exc.headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if rest and where in ("body", "form") else ".".join([where, *rest])
    return ".".join(parts)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx = errors[0].get("ctx") or {}
        detail = f"the body is not valid JSON: {ctx.get('error', 'cannot parse it')}"
        return _problem(request, MalformedBody(detail))
    fields = [{"field": _field(e["loc"]), "message": e["msg"], "type": e["type"]} for e in errors]
    summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields[:5])
    body = {
        "type": PROBLEM_BASE + "invalid-field",
        "title": "Invalid field",
        "status": 422,
        "detail": summary,
        "instance": request.url.path,
        "errors": fields,
    }
    return problem_response(422, body)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, Problem):
        # FastAPI turns any error raised while it reads the body (such as the 413 of
        # BodyLimitMiddleware on a streamed body) into a 400; answer with the original.
        return _problem(request, exc.__cause__)
    status = exc.status_code
    body = {
        "type": "about:blank",
        "title": STATUS_TITLES.get(status, "Error"),
        "status": status,
        "detail": exc.detail if isinstance(exc.detail, str) else STATUS_TITLES.get(status, "Error"),
        "instance": request.url.path,
    }
    return problem_response(status, body, dict(exc.headers or {}))


async def _typed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _problem(request, exc)


async def _integrity(request: Request, exc: Exception) -> Response:
    log.info("integrity error on %s: %s", request.url.path, exc)
    return _problem(request, Conflict("the change conflicts with data already stored"))


async def _database_down(request: Request, exc: Exception) -> Response:
    log.error("database error on %s: %s", request.url.path, exc)
    return _problem(request, ServiceUnavailable("the database is not answering; try again"))


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    log.warning("no database connection free for %s: %s", request.url.path, exc)
    return _problem(request, BUSY)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception(
        "unhandled error on %s %s (request %s)",
        request.method,
        request.url.path,
        getattr(request.state, "request_id", "?"),
    )
    body = {
        "type": "about:blank",
        "title": "Internal server error",
        "status": 500,
        "detail": "something went wrong on our side; the error has been logged",
        "instance": request.url.path,
    }
    # Answered by the outermost middleware, past RequestIdMiddleware: the id is added here,
    # so the operator can find the logged error from what the caller saw.
    rid = getattr(request.state, "request_id", None)
    return problem_response(500, body, {"X-Request-ID": rid} if rid else None)


def install_problem_handlers(app: FastAPI) -> None:
    """Every 4xx/5xx leaves as RFC 9457 problem+json, never as a stack trace."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Problem, _typed)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected)


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` before reading them whole (Content-Length or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the body is larger than the limit of {self.max_bytes:,} bytes (IOC_MAX_BODY_BYTES)",
            limit=self.max_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                response = early_problem(scope.get("path", ""), self._too_large())
                await response(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, limited, send)


class RequestIdMiddleware:
    """Give each request an id (or keep the caller's X-Request-ID) for logs and audit rows."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = rid[:64] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_id)
