"""Where @context documents come from, and the /jsonldContexts operations on the cache.

A context URL resolves to the shipped core context, then this process's memory, then the
``ngsi_contexts`` table (documents operators preloaded or posted), and only when
``IOC_NGSILD_FETCH_CONTEXTS`` allows it, to the network with a short timeout. Anything else is
``LdContextNotAvailable`` at once: the broker never waits on a context it cannot have.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context.errors import BadRequestData, LdContextNotAvailable, ResourceNotFound
from ioc.context.jsonld import (
    CORE_CONTEXT_URL,
    CORE_TERMS,
    TermMap,
    build_term_map,
    core_document,
    is_core_url,
)
from ioc.context.models import LdContext
from ioc.core import audit
from ioc.core.db import Database, utcnow

HOSTED_PATH = re.compile(r"/ngsi-ld/v1/jsonldContexts/([A-Za-z0-9_\-]{1,64})$")
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAP_CACHE_SIZE = 512
FAILURE_MEMORY_SECONDS = 30.0  # an unreachable URL is not tried again for this long
KINDS = ("Hosted", "Cached")


@dataclass(frozen=True, slots=True)
class ContextInfo:
    """One entry of GET /jsonldContexts?details=true."""

    url: str
    local_id: str
    kind: str
    created: str | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"URL": self.url, "localId": self.local_id, "kind": self.kind}
        if self.created:
            out["timestamp"] = self.created
        if self.note:
            out["extraInfo"] = self.note
        return out


def _is_context_document(document: Any) -> bool:
    return isinstance(document, dict) and "@context" in document


def fetch(url: str, timeout: float) -> dict[str, Any]:
    """GET a remote @context document; LdContextNotAvailable on any failure."""
    if not url.startswith(("http://", "https://")):
        raise LdContextNotAvailable(f"@context {url}: only http(s) URLs can be fetched")
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            response = client.get(
                url, headers={"Accept": "application/ld+json, application/json;q=0.9"}
            )
            response.raise_for_status()
            if len(response.content) > MAX_DOCUMENT_BYTES:
                raise LdContextNotAvailable(f"@context {url}: larger than 2 MiB")
            document = orjson.loads(response.content)
    except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
        raise LdContextNotAvailable(f"@context {url} cannot be fetched: {exc}") from None
    if not _is_context_document(document):
        raise LdContextNotAvailable(f"@context {url}: the document has no @context member")
    result: dict[str, Any] = document
    return result


class ContextStore:
    """Context documents and the term maps built from them, cached in this process."""

    def __init__(self, database: Database, *, fetch_remote: bool, timeout: float) -> None:
        self.database = database
        self.fetch_remote = fetch_remote
        self.timeout = timeout
        self._documents: dict[str, dict[str, Any]] = {}
        self._maps: OrderedDict[str, TermMap] = OrderedDict()
        self._failed: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- term maps -----------------------------------------------------------------------

    @staticmethod
    def key(context: Any) -> str:
        """The cache key of a context value (a Link URL is its own key)."""
        if context is None:
            return ""
        if isinstance(context, str):
            return context
        return orjson.dumps(context, option=orjson.OPT_SORT_KEYS).decode()

    def cached(self, key: str) -> TermMap | None:
        """The term map for ``key`` if this process has it (no I/O)."""
        if not key or is_core_url(key):
            return CORE_TERMS
        return self._maps.get(key)

    def term_map(self, context: Any) -> TermMap:
        """The term map for a request's context; may read the cache table or the network."""
        key = self.key(context)
        found = self.cached(key)
        if found is not None:
            return found
        built = build_term_map(context, self.document)
        with self._lock:
            self._maps[key] = built
            while len(self._maps) > MAP_CACHE_SIZE:
                self._maps.popitem(last=False)
        return built

    def forget(self, url: str | None = None) -> None:
        """Drop cached documents and term maps after a change to the cache table."""
        with self._lock:
            if url is None:
                self._documents.clear()
            else:
                self._documents.pop(url, None)
            self._maps.clear()
            self._failed.clear()

    # -- documents -----------------------------------------------------------------------

    def document(self, url: str) -> dict[str, Any]:
        """The @context document at ``url``: core, memory, table, then (maybe) the network."""
        if is_core_url(url):
            return core_document()
        found = self._documents.get(url)
        if found is not None:
            return found
        with self.database.sessionmaker() as session:
            found = self._stored(session, url)
        if found is None:
            found = self._remote(url)
        self._documents[url] = found
        return found

    def _stored(self, session: Session, url: str) -> dict[str, Any] | None:
        row = session.get(LdContext, url)
        if row is None:
            hosted = HOSTED_PATH.search(url)
            if hosted is not None:
                row = session.scalar(select(LdContext).where(LdContext.local_id == hosted[1]))
        return row.document if row is not None else None

    def _remote(self, url: str) -> dict[str, Any]:
        if not self.fetch_remote:
            raise LdContextNotAvailable(
                f"@context {url} is not cached here: preload it (ioc context preload URL, or "
                "POST /ngsi-ld/v1/jsonldContexts?url=…); this server does not fetch contexts "
                "(IOC_NGSILD_FETCH_CONTEXTS)"
            )
        failed_until = self._failed.get(url, 0.0)
        if failed_until > time.monotonic():
            raise LdContextNotAvailable(f"@context {url} could not be fetched a moment ago")
        try:
            document = fetch(url, self.timeout)
        except LdContextNotAvailable:
            self._failed[url] = time.monotonic() + FAILURE_MEMORY_SECONDS
            raise
        with self.database.session("system:ngsi-ld") as session:
            if session.get(LdContext, url) is None:
                _save(session, url, "Cached", document, "fetched on first use")
        return document

    # -- the /jsonldContexts operations ----------------------------------------------------

    def host(self, session: Session, document: Any, base_url: str) -> LdContext:
        """Keep a posted @context (kind Hosted) and serve it at a URL of ours."""
        if not _is_context_document(document):
            raise BadRequestData("the body must be a JSON object with an @context member")
        build_term_map(document["@context"], self.document)  # refuse what cannot be used
        local_id = uuid.uuid4().hex
        url = f"{base_url.rstrip('/')}/ngsi-ld/v1/jsonldContexts/{local_id}"
        return _save(session, url, "Hosted", document, "", local_id)

    def preload(self, session: Session, url: str, document: Any | None) -> LdContext:
        """Keep a remote @context under its URL (kind Cached), fetched now unless given."""
        if is_core_url(url):
            raise BadRequestData(f"{url} is the core context, which ships with ioc")
        if not url.startswith(("http://", "https://")) or len(url) > 1024:
            raise BadRequestData(f"url: {url[:100]!r} is not an http(s) URL")
        if document is None:
            document = fetch(url, self.timeout)
        elif not _is_context_document(document):
            raise BadRequestData("the document must be a JSON object with an @context member")
        build_term_map(document["@context"], self.document)
        existing = session.get(LdContext, url)
        if existing is not None:
            session.delete(existing)
            session.flush()
        row = _save(session, url, "Cached", document, "preloaded by an operator")
        self.forget(url)
        return row

    def listing(self, session: Session, kind: str | None = None) -> list[ContextInfo]:
        if kind is not None and kind not in KINDS:
            raise BadRequestData(f"kind: one of {', '.join(KINDS)}")
        rows = session.scalars(select(LdContext).order_by(LdContext.created_at, LdContext.url))
        out = [] if kind == "Hosted" else [_core_info()]
        for row in rows:
            if kind is None or row.kind == kind:
                out.append(_info(row))
        return out

    def find(self, session: Session, context_id: str) -> tuple[ContextInfo, dict[str, Any]]:
        """A context by its local id or URL (the core context included)."""
        if is_core_url(context_id) or context_id == "core":
            return _core_info(), core_document()
        row = session.get(LdContext, context_id) or session.scalar(
            select(LdContext).where(LdContext.local_id == context_id)
        )
        if row is None:
            raise ResourceNotFound(f"no @context {context_id!r} here")
        return _info(row), row.document

    def remove(self, session: Session, context_id: str, reload: bool = False) -> None:
        """Delete a context; ``reload`` fetches a cached one again instead."""
        if is_core_url(context_id) or context_id == "core":
            raise BadRequestData("the core context cannot be deleted")
        info, _ = self.find(session, context_id)
        row = session.get(LdContext, info.url)
        assert row is not None
        if reload:
            if row.kind != "Cached":
                raise BadRequestData("only a cached context can be reloaded")
            document = fetch(row.url, self.timeout)
            row.document = document
        else:
            session.delete(row)
        audit.record(session, "reload" if reload else "delete", "ngsi_contexts", row.url)
        self.forget(row.url)


def _save(
    session: Session,
    url: str,
    kind: str,
    document: dict[str, Any],
    note: str,
    local_id: str | None = None,
) -> LdContext:
    row = LdContext(
        url=url,
        local_id=local_id or uuid.uuid4().hex,
        kind=kind,
        document=document,
        created_at=utcnow(),
        note=note,
    )
    session.add(row)
    session.flush()
    terms = document["@context"]
    size = len(terms) if isinstance(terms, dict | list) else 1
    audit.record(session, "insert", "ngsi_contexts", url, after={"kind": kind, "entries": size})
    return row


def _info(row: LdContext) -> ContextInfo:
    created = row.created_at.isoformat().replace("+00:00", "Z") if row.created_at else None
    return ContextInfo(row.url, row.local_id, row.kind, created, row.note)


def _core_info() -> ContextInfo:
    return ContextInfo(CORE_CONTEXT_URL, "core", "Cached", None, "the NGSI-LD core context")
