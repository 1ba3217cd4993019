"""Subscriptions compiled for matching: selectors, watched attributes, triggers, q, geoQ.

``compile_row`` turns a stored subscription into a ``Compiled`` once per reload; ``Index``
finds the candidates for a change by tenant and expanded entity type in a dict lookup.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ioc.context import qlang
from ioc.context.geo import GeoQuery, parse_geoquery
from ioc.context.http import JSON_LD
from ioc.context.jsonld import TermMap
from ioc.context.service import Broker
from ioc.context.store import Stored
from ioc.context.subscription_models import Subscription
from ioc.context.subscriptions import DEFAULT_TRIGGERS, TRIGGERS, geo_params


@dataclass(frozen=True, slots=True)
class Selector:
    type: str
    id: str | None
    pattern: re.Pattern[str] | None

    def matches(self, entity_id: str) -> bool:
        if self.id is not None and self.id != entity_id:
            return False
        return self.pattern is None or self.pattern.search(entity_id) is not None


@dataclass(slots=True)
class Compiled:
    """One active subscription, ready to test changes against."""

    tenant: str
    id: str
    selectors: tuple[Selector, ...]
    watched: frozenset[str] | None
    kinds: frozenset[str]  # created / updated / deleted
    q: qlang.Node | None
    geo: GeoQuery | None
    attrs: frozenset[str] | None
    fmt: str
    sys_attrs: bool
    endpoint: dict[str, Any]
    receiver_info: list[dict[str, str]]
    throttling: float | None
    expires_at: dt.datetime | None
    terms: TermMap
    context: Any  # named in the notification's Link or @context
    since: dt.datetime  # when it was made: earlier changes, relayed late, are not its business

    @property
    def key(self) -> tuple[str, str]:
        return self.tenant, self.id

    def wants(
        self, kind: str, entity_id: str, written: list[str], now: dt.datetime, at: dt.datetime
    ) -> bool:
        """Could this change, made ``at``, concern the subscription? (before reading the entity)"""
        if kind not in self.kinds or (self.expires_at is not None and self.expires_at <= now):
            return False
        if at < self.since:
            return False
        if self.selectors and not any(s.matches(entity_id) for s in self.selectors):
            return False
        return self.watched is None or kind == "deleted" or not self.watched.isdisjoint(written)

    def accepts(self, stored: Stored) -> bool:
        """Do ``q`` and ``geoQ`` hold for the entity as it is now?"""
        if self.q is not None and not qlang.matches(self.q, stored.attrs):
            return False
        if self.geo is not None:
            geometry = geometry_of(stored, self.geo.geoproperty)
            return geometry is not None and self.geo.test(geometry)
        return True


def geometry_of(stored: Stored, name: str) -> BaseGeometry | None:
    """The entity's GeoProperty ``name`` (its default instance) as a shapely geometry."""
    instances = stored.attrs.get(name) or []
    instance = next((i for i in instances if "datasetId" not in i), None)
    if instance is None or instance.get("type") != "GeoProperty":
        return None
    return shape(instance["value"])


def compile_row(row: Subscription, broker: Broker) -> Compiled:
    """A stored subscription → its matcher (term maps may be read from the database)."""
    doc = row.document
    context = doc.get("@context")
    terms = broker.contexts.term_map(context)
    selectors = tuple(
        Selector(
            s["type"],
            s.get("id"),
            re.compile(s["idPattern"]) if "idPattern" in s else None,
        )
        for s in doc.get("entities", ())
    )
    triggers = doc.get("notificationTrigger") or DEFAULT_TRIGGERS
    kinds = frozenset(k for t in triggers for k in TRIGGERS[t].split())
    spec = doc["notification"]
    named = doc.get("jsonldContext")
    if named is not None:
        terms, context = broker.contexts.term_map(named), named
    if spec["endpoint"].get("accept") != JSON_LD and not isinstance(context, str | None):
        # A Link header names one URL: an inline context cannot go there, so the entities
        # are compacted with the core context the Link will name.
        terms, context = broker.contexts.term_map(None), None
    return Compiled(
        tenant=row.tenant,
        id=row.id,
        selectors=selectors,
        watched=frozenset(doc["watchedAttributes"]) if "watchedAttributes" in doc else None,
        kinds=kinds,
        q=qlang.parse(doc["q"], broker.contexts.term_map(doc.get("@context")))
        if "q" in doc
        else None,
        geo=parse_geoquery(geo_params(doc["geoQ"]), terms) if "geoQ" in doc else None,
        attrs=frozenset(spec["attributes"]) if "attributes" in spec else None,
        fmt=spec["format"],
        sys_attrs=bool(spec.get("sysAttrs")),
        endpoint=spec["endpoint"],
        receiver_info=row.receiver_info or [],
        throttling=doc.get("throttling"),
        expires_at=row.expires_at,
        terms=terms,
        context=context,
        since=row.created_at,
    )


class Index:
    """Active subscriptions by tenant, then by expanded entity type (None: any type)."""

    def __init__(self, compiled: list[Compiled] | None = None) -> None:
        self._by: dict[str, dict[str | None, list[Compiled]]] = {}
        for item in compiled or ():
            types: set[str | None] = {s.type for s in item.selectors} or {None}
            for kind in types:
                self._by.setdefault(item.tenant, {}).setdefault(kind, []).append(item)
        self.size = len(compiled or ())
        self.keys = frozenset(item.key for item in compiled or ())

    def candidates(self, tenant: str, kind: str) -> list[Compiled]:
        found = self._by.get(tenant)
        if not found:
            return []
        return found.get(kind, []) + found.get(None, [])
