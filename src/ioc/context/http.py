"""One NGSI-LD HTTP request, read once: tenant, credential, @context, Accept, body.

Rules of the spec enforced here: the @context comes from a ``Link`` header (rel
``http://www.w3.org/ns/json-ld#context``) or, with ``application/ld+json``, from the body (not
both); bodies are ``application/json`` or ``application/ld+json`` (else 415); answers are JSON
with the context in a Link header, or JSON-LD with ``@context`` inside (else 406).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from ioc.context.access import Credential
from ioc.context.errors import (
    BadRequestData,
    InvalidRequest,
    NotAcceptable,
    UnsupportedMediaType,
)
from ioc.context.jsonld import CORE_CONTEXT_URL
from ioc.context.service import DEFAULT_TENANT

JSON = "application/json"
JSON_LD = "application/ld+json"
JSONLD_REL = "http://www.w3.org/ns/json-ld#context"
RESULTS_COUNT = "NGSILD-Results-Count"
_TENANT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_LINK = re.compile(r"\s*<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_NO_BODY = frozenset({"GET", "DELETE", "HEAD"})


def context_link(header: str | None) -> str | None:
    """The JSON-LD context URL of a Link header, if it has one (two are an error)."""
    if not header:
        return None
    found: list[str] = []
    for match in _LINK.finditer(header):
        params = {}
        for param in match[2].split(";"):
            name, _, value = param.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        if params.get("rel") == JSONLD_REL:
            found.append(match[1].strip())
    if len(found) > 1:
        raise BadRequestData("Link: more than one JSON-LD @context link")
    if found and not found[0]:
        raise BadRequestData("Link: the @context link has no URL")
    return found[0] if found else None


def negotiate(header: str | None) -> str:
    """``application/json`` or ``application/ld+json``, by the Accept header's preferences."""
    if not header or header == JSON:
        return JSON
    best, best_q = None, 0.0
    for item in header.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        media = media.lower()
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        choice = {JSON: JSON, JSON_LD: JSON_LD, "*/*": JSON, "application/*": JSON}.get(media)
        if choice is not None and q > best_q:
            best, best_q = choice, q
    if best is None:
        raise NotAcceptable(
            f"Accept: {header!r} names nothing this API answers with "
            "(application/json or application/ld+json)"
        )
    return best


_WANTED = frozenset(
    {b"ngsild-tenant", b"authorization", b"x-api-key", b"accept", b"link", b"content-type"}
)


def _wanted(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers this API reads, in one pass over the ASGI list."""
    found: dict[str, str] = {}
    for name, value in raw:
        if name in _WANTED:
            key, text = name.decode("latin-1"), value.decode("latin-1")
            if key == "link" and key in found:
                found[key] += ", " + text  # several Link headers are one list
            else:
                found.setdefault(key, text)
    return found


def _credential(headers: dict[str, str]) -> Credential | None:
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() == "bearer" and secret.strip():
            return Credential("bearer", secret.strip())
    key = headers.get("x-api-key")
    return Credential("apikey", key) if key else None


@dataclass(slots=True)
class Call:
    """Everything a handler needs from the request, checked."""

    request: Request
    args: tuple[str, ...]  # decoded path parameters
    tenant: str
    credential: Credential | None
    accept: str
    link: str | None
    params: QueryParams
    body: Any = None
    ld_body: bool = False  # the body is application/ld+json: its @context is in it

    @classmethod
    async def read(cls, request: Request, args: tuple[str, ...]) -> Call:
        headers = _wanted(request.scope["headers"])
        tenant = headers.get("ngsild-tenant") or DEFAULT_TENANT
        if not _TENANT.match(tenant):
            raise BadRequestData(f"NGSILD-Tenant: {tenant[:80]!r} is not a tenant name")
        call = cls(
            request,
            args,
            tenant,
            _credential(headers),
            negotiate(headers.get("accept")),
            context_link(headers.get("link")),
            request.query_params,
        )
        if request.method not in _NO_BODY:
            await call._read_body(headers.get("content-type") or "")
        return call

    async def _read_body(self, content_type: str) -> None:
        raw = await self.request.body()
        media = content_type.split(";")[0].strip().lower()
        if not raw and self.request.method == "POST" and self.args[:1] == ("jsonldContexts",):
            return  # a preload by URL may come without a body
        if media not in (JSON, JSON_LD):
            raise UnsupportedMediaType(
                f"Content-Type: send {JSON} or {JSON_LD}, not {media or 'nothing'}"
            )
        try:
            self.body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"the body is not valid JSON: {exc}") from None
        self.ld_body = media == JSON_LD
        if self.args[:1] == ("jsonldContexts",):
            return  # the body is an @context document itself
        items = self.body if isinstance(self.body, list) else [self.body]
        if self.ld_body:
            if self.link is not None:
                raise BadRequestData(
                    "Link: with Content-Type application/ld+json the @context goes in the body"
                )
            if not all(isinstance(i, dict) and "@context" in i for i in items):
                raise BadRequestData("application/ld+json bodies carry an @context member")
        elif any(isinstance(i, dict) and "@context" in i for i in items):
            raise BadRequestData(
                "@context in the body needs Content-Type application/ld+json (or use a Link header)"
            )

    @property
    def context(self) -> Any:
        """The request's @context: the Link URL, a single body's @context, or None (core)."""
        if self.ld_body and isinstance(self.body, dict):
            return self.body.get("@context")
        return self.link

    @property
    def answer_context(self) -> str:
        """The context answers are compacted with (named in Link, or @context for JSON-LD)."""
        return self.link or CORE_CONTEXT_URL

    def option(self, name: str) -> bool:
        options = self.params.get("options", "")
        return name in (o.strip() for o in options.split(","))

    @property
    def request_id(self) -> str | None:
        state = self.request.scope.get("state") or {}
        request_id = state.get("request_id")
        return str(request_id) if request_id else None

    def respond(
        self, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        """A JSON answer: @context inside for application/ld+json, in a Link header otherwise."""
        out = dict(headers or {})
        if self.accept == JSON_LD:
            media = JSON_LD
            if isinstance(body, dict) and "@context" not in body:
                body = {**body, "@context": self.answer_context}
        else:
            media = JSON
            out["Link"] = f'<{self.answer_context}>; rel="{JSONLD_REL}"; type="{JSON_LD}"'
        return Response(orjson.dumps(body), status_code=status, headers=out, media_type=media)

    def location(self, *segments: str) -> str:
        """An absolute path under /ngsi-ld/v1 with each segment percent-encoded."""
        return "/ngsi-ld/v1/" + "/".join(quote(s, safe=":") for s in segments)


def no_content(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers)
