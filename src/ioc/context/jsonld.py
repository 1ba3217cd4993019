"""JSON-LD as NGSI-LD needs it: term maps from @context documents, names expanded and compacted.

NGSI-LD only ever expands and compacts entity types, attribute names and vocabulary values
(plus the core terms it treats as keywords), so a term map per distinct @context is enough: no
general JSON-LD algorithm runs on a request. The core context is applied first and its terms
are protected, as ``@protected`` asks; a user context's ``@vocab`` still wins over the core's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any

import orjson

from ioc.context.errors import BadRequestData

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB = NGSI_LD + "default-context/"
# Clients name the core context by any of its published versions; its terms only ever grew.
_CORE_URL = re.compile(
    r"^https?://uri\.etsi\.org/ngsi-ld/v1/ngsi-ld-core-context(-v1\.\d+)?\.jsonld$"
)
MAX_NESTING = 8  # remote contexts that import remote contexts…
_MEMO_LIMIT = 20_000
_GEN_DELIMS = (":", "/", "?", "#", "[", "]", "@")

Loader = Callable[[str], dict[str, Any]]


def is_core_url(url: str) -> bool:
    return url == CORE_CONTEXT_URL or _CORE_URL.match(url) is not None


@cache
def core_document() -> dict[str, Any]:
    """The NGSI-LD core @context shipped inside the package (served for its URL, never fetched).

    Shared: callers must not change it.
    """
    data = resources.files("ioc.context").joinpath("data/ngsi-ld-core-context-v1.8.jsonld")
    document: dict[str, Any] = orjson.loads(data.read_bytes())
    return document


class TermMap:
    """Term ↔ IRI mapping of one active context; expansions and compactions are memoised."""

    __slots__ = ("terms", "vocab", "_prefixes", "_reverse", "_expanded", "_compacted")

    def __init__(self, terms: dict[str, str], vocab: str | None) -> None:
        self.terms = terms
        self.vocab = vocab
        reverse: dict[str, str] = {}
        for term, iri in sorted(terms.items(), key=lambda kv: (len(kv[0]), kv[0]), reverse=True):
            if not iri.startswith("@"):
                reverse[iri] = term  # shortest, then least term wins, as JSON-LD compaction
        self._reverse = reverse
        self._prefixes = sorted(
            ((iri, term) for term, iri in terms.items() if iri.endswith(_GEN_DELIMS)),
            key=lambda p: len(p[0]),
            reverse=True,
        )
        self._expanded: dict[str, str] = {}
        self._compacted: dict[str, str] = {}

    def expand(self, name: str) -> str:
        """The IRI of a type or attribute name (terms, compact IRIs, @vocab, absolute IRIs)."""
        iri = self._expanded.get(name)
        if iri is not None:
            return iri
        iri = self.terms.get(name)
        if iri is None:
            prefix, colon, suffix = name.partition(":")
            if colon:
                base = self.terms.get(prefix)
                iri = base + suffix if base and not suffix.startswith("//") else name
            else:
                iri = self.vocab + name if self.vocab is not None else name
        if len(self._expanded) < _MEMO_LIMIT:
            self._expanded[name] = iri
        return iri

    def compact(self, iri: str) -> str:
        """The shortest name this context gives an IRI (a term, vocab-relative, prefix:suffix)."""
        name = self._compacted.get(iri)
        if name is not None:
            return name
        name = self._reverse.get(iri)
        if name is None and self.vocab and iri.startswith(self.vocab):
            suffix = iri[len(self.vocab) :]
            if suffix and suffix not in self.terms and ":" not in suffix:
                name = suffix
        if name is None:
            for base, term in self._prefixes:
                if iri.startswith(base) and len(iri) > len(base):
                    candidate = f"{term}:{iri[len(base) :]}"
                    if candidate not in self.terms:
                        name = candidate
                        break
        name = name or iri
        if len(self._compacted) < _MEMO_LIMIT:
            self._compacted[iri] = name
        return name


class _Builder:
    """Collects term definitions from contexts in order, then resolves them to IRIs."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.raw: dict[str, str | None] = {}
        self.protected: set[str] = set()
        self.vocab: str | None = None
        self.vocab_set = False

    def add(self, context: Any, depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise BadRequestData(f"@context: remote contexts nest deeper than {MAX_NESTING}")
        if context is None:
            return  # a null context would clear the core terms, which NGSI-LD always keeps
        if isinstance(context, list):
            for item in context:
                self.add(item, depth)
        elif isinstance(context, str):
            if is_core_url(context):
                return  # always applied first
            document = self.loader(context)
            if not isinstance(document, dict) or "@context" not in document:
                raise BadRequestData(f"@context: {context} is not a JSON-LD context document")
            self.add(document["@context"], depth + 1)
        elif isinstance(context, dict):
            self._add_object(context, depth)
        else:
            raise BadRequestData("@context: give a URL, an object or an array of them")

    def _add_object(self, context: dict[str, Any], depth: int) -> None:
        imported = context.get("@import")
        if isinstance(imported, str):
            self.add(imported, depth + 1)
        if "@vocab" in context:
            vocab = context["@vocab"]
            if vocab is not None and not isinstance(vocab, str):
                raise BadRequestData("@context: @vocab must be a string")
            self.vocab, self.vocab_set = vocab, True
        protect = context.get("@protected") is True
        for term, value in context.items():
            if term.startswith("@"):
                continue
            definition = _definition(term, value)
            if term in self.protected and self.raw.get(term) != definition:
                continue  # a protected (core) term keeps its meaning
            self.raw[term] = definition
            if protect:
                self.protected.add(term)

    def resolve(self, value: str, seen: frozenset[str] = frozenset()) -> str:
        if value.startswith("@"):
            return value
        prefix, colon, suffix = value.partition(":")
        if colon:
            base = self.raw.get(prefix)
            if base is not None and not suffix.startswith("//") and prefix not in seen:
                return self.resolve(base, seen | {prefix}) + suffix
            return value
        target = self.raw.get(value)
        if target is not None and target != value and value not in seen:
            return self.resolve(target, seen | {value})
        return self.vocab + value if self.vocab is not None else value

    def build(self) -> TermMap:
        vocab = self.vocab
        if vocab is not None:
            self.vocab = None  # a compact @vocab resolves through prefixes, not through itself
            vocab = self.resolve(vocab)
            self.vocab = vocab
        terms = {t: self.resolve(v) for t, v in self.raw.items() if v is not None}
        return TermMap(terms, vocab)


def _definition(term: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        iri = value.get("@id", term)
        if iri is None or isinstance(iri, str):
            return iri
    raise BadRequestData(f"@context: the definition of {term!r} is neither a string nor an object")


_CORE_DOCUMENT = core_document()


def build_term_map(context: Any, loader: Loader) -> TermMap:
    """The term map for ``context`` (a URL, an object, an array, or None for the core alone)."""
    builder = _Builder(loader)
    builder.add(_CORE_DOCUMENT["@context"])
    if context is not None:
        builder.add(context)
    return builder.build()


def _no_remote(url: str) -> dict[str, Any]:
    raise BadRequestData(f"@context: {url} cannot be loaded here")


CORE_TERMS = build_term_map(None, _no_remote)


def referenced_urls(context: Any) -> Iterable[str]:
    """The remote context URLs a context value names at its top level."""
    items = context if isinstance(context, list) else [context]
    return [item for item in items if isinstance(item, str)]
