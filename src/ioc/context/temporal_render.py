"""History rows → the temporal representations: normalized, temporalValues, aggregatedValues.

Normalized: each attribute is an array of its instances (``instanceId``, the value, the
observedAt…; a deletion reads ``"urn:ngsi-ld:null"`` with ``deletedAt``). temporalValues:
``{"type": "Property", "values": [[value, time], …]}`` (``objects`` for relationships…).
aggregatedValues: ``{"type": "Property", "avg": [[value, start, end], …], …}``. An attribute
with several datasetIds is an array with one such object per datasetId.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from ioc.context.entities import VALUE_MEMBER
from ioc.context.jsonld import TermMap
from ioc.context.render import _instance, _simplified, timestamp
from ioc.context.temporal_params import TemporalQuery
from ioc.context.temporal_read import Bucket, Row

NULL = "urn:ngsi-ld:null"
INSTANCE_PREFIX = "urn:ngsi-ld:attribute:instance:"
# temporalValues: the member that lists the values, by attribute type
VALUES_MEMBER = {
    "Property": "values",
    "GeoProperty": "values",
    "Relationship": "objects",
    "LanguageProperty": "languageMaps",
    "VocabProperty": "vocabs",
    "JsonProperty": "jsons",
    "ListProperty": "valueLists",
    "ListRelationship": "objectLists",
}


def _stored_instance(row: Row) -> dict[str, Any]:
    """The instance as the entity held it, system times from the row."""
    instance: dict[str, Any] = orjson.loads(row.meta)
    kind = instance.get("type", "Property")
    member = VALUE_MEMBER.get(kind, "value")
    recorded = timestamp(row.recorded_at)
    if row.value is None:
        instance[member] = NULL
        instance["deletedAt"] = recorded
    else:
        instance[member] = orjson.loads(row.value)
    instance["createdAt"] = instance["modifiedAt"] = recorded
    return instance


def _entity_head(entity_id: str, entity_type: str, terms: TermMap) -> dict[str, Any]:
    return {"id": entity_id, "type": terms.compact(entity_type)}


def _grouped(items: dict[str, dict[str | None, Any]], name: str) -> Any:
    by_dataset = items[name]
    rendered = list(by_dataset.values())
    return rendered[0] if len(rendered) == 1 and None in by_dataset else rendered


def entities(
    rows: Iterable[Row], order: list[str], tq: TemporalQuery, terms: TermMap
) -> list[dict[str, Any]]:
    """Temporal entities (normalized or temporalValues) in the order of ``order``."""
    heads: dict[str, dict[str, Any]] = {}
    normal: dict[str, dict[str, list[Any]]] = {}
    simple: dict[str, dict[str, dict[str | None, dict[str, Any]]]] = {}
    for row in rows:
        heads[row.entity_id] = _entity_head(row.entity_id, row.entity_type, terms)
        name = terms.compact(row.attr)
        instance = _stored_instance(row)
        if tq.temporal_values:
            if row.value is None:
                continue  # a deletion has no value to list
            kind = instance.get("type", "Property")
            series = simple.setdefault(row.entity_id, {}).setdefault(name, {})
            entry = series.get(row.dataset_id)
            if entry is None:
                entry = {"type": kind}
                if row.dataset_id is not None:
                    entry["datasetId"] = row.dataset_id
                entry[VALUES_MEMBER.get(kind, "values")] = []
                series[row.dataset_id] = entry
            entry[VALUES_MEMBER.get(kind, "values")].append(
                [_simplified(instance, terms), timestamp(row.time)]
            )
        else:
            shown = _instance(instance, terms, tq.sys_attrs, False)
            if "deletedAt" in instance:
                shown["deletedAt"] = instance["deletedAt"]
            shown["instanceId"] = f"{INSTANCE_PREFIX}{row.id}"
            normal.setdefault(row.entity_id, {}).setdefault(name, []).append(shown)
    out: list[dict[str, Any]] = []
    for entity_id in order:
        head = heads.get(entity_id)
        if head is None:
            continue
        if tq.temporal_values:
            named = simple.get(entity_id, {})
            head |= {name: _grouped(named, name) for name in named}
        else:
            head |= normal.get(entity_id, {})
        out.append(head)
    return out


def aggregated(
    buckets: Iterable[Bucket], order: list[str], tq: TemporalQuery, terms: TermMap
) -> list[dict[str, Any]]:
    """Temporal entities in the aggregated representation; lastN keeps the latest periods."""
    heads: dict[str, dict[str, Any]] = {}
    found: dict[str, dict[str, dict[str | None, dict[str, Any]]]] = {}
    for bucket in buckets:
        heads[bucket.entity_id] = _entity_head(bucket.entity_id, bucket.entity_type, terms)
        name = terms.compact(bucket.attr)
        series = found.setdefault(bucket.entity_id, {}).setdefault(name, {})
        entry = series.get(bucket.dataset_id)
        if entry is None:
            entry = {"type": "Property"}
            if bucket.dataset_id is not None:
                entry["datasetId"] = bucket.dataset_id
            entry |= {method: [] for method in tq.methods}
            series[bucket.dataset_id] = entry
        span = (timestamp(bucket.start), timestamp(bucket.end))
        for method in tq.methods:
            value = bucket.values.get(method)
            if value is not None:
                entry[method].append([value, *span])
    out: list[dict[str, Any]] = []
    for entity_id in order:
        head = heads.get(entity_id)
        if head is None:
            continue
        named = found[entity_id]
        if tq.last_n:
            for by_dataset in named.values():
                for entry in by_dataset.values():
                    for method in tq.methods:
                        entry[method] = entry[method][-tq.last_n :]
        head |= {name: _grouped(named, name) for name in named}
        out.append(head)
    return out
