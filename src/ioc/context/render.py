"""Stored entities → the representations NGSI-LD answers with, compacted by the caller's context.

``normalized`` (every attribute with its type), ``keyValues`` (attribute → value) and
``concise`` (types left out, a lone value written bare); ``sysAttrs`` adds createdAt and
modifiedAt; ``attrs`` keeps only the named attributes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from ioc.context.entities import VALUE_MEMBER
from ioc.context.jsonld import TermMap
from ioc.context.store import Stored

FORMATS = ("normalized", "keyValues", "concise")
SYSTEM_TIMES = ("createdAt", "modifiedAt")


def timestamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as NGSI-LD brokers write system times."""
    return (
        moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )


def _is_attribute_key(key: str) -> bool:
    return ":" in key  # sub-attributes are stored under expanded (URI) names


def _instance(instance: dict[str, Any], terms: TermMap, sys_attrs: bool, concise: bool) -> Any:
    out: dict[str, Any] = {}
    kind = instance.get("type")
    for key, value in instance.items():
        if _is_attribute_key(key):
            out[terms.compact(key)] = _instance(value, terms, sys_attrs, concise)
        elif key in SYSTEM_TIMES:
            if sys_attrs:
                out[key] = value
        elif key == "type":
            if not concise:
                out[key] = value
        elif key == "vocab":
            out[key] = (
                [terms.compact(v) for v in value]
                if isinstance(value, list)
                else terms.compact(value)
            )
        elif key == "objectType":
            out[key] = terms.compact(value)
        else:
            out[key] = value
    if concise and kind == "Property" and list(out) == ["value"]:
        return out["value"]
    return out


def _simplified(instance: dict[str, Any], terms: TermMap) -> Any:
    kind = instance.get("type", "Property")
    value = instance.get(VALUE_MEMBER.get(kind, "value"))
    if kind == "VocabProperty":
        names = value if isinstance(value, list) else [value]
        compacted = [terms.compact(str(v)) for v in names]
        return compacted if isinstance(value, list) else compacted[0]
    if kind == "ListRelationship" and isinstance(value, list):
        return [item.get("object") for item in value]
    return value


def entity(
    stored: Stored,
    terms: TermMap,
    *,
    fmt: str = "normalized",
    sys_attrs: bool = False,
    attrs: Collection[str] | None = None,
    context: Any = None,
) -> dict[str, Any]:
    """One entity in ``fmt``, names compacted; ``context`` adds an @context member (ld+json)."""
    out: dict[str, Any] = {"id": stored.id, "type": terms.compact(stored.type)}
    if sys_attrs:
        out["createdAt"] = timestamp(stored.created_at)
        out["modifiedAt"] = timestamp(stored.modified_at)
    concise = fmt == "concise"
    for name, instances in stored.attrs.items():
        if attrs is not None and name not in attrs:
            continue
        key = terms.compact(name)
        if fmt == "keyValues":
            values = [_simplified(i, terms) for i in instances]
            out[key] = values[0] if len(values) == 1 else values
        else:
            rendered = [_instance(i, terms, sys_attrs, concise) for i in instances]
            out[key] = rendered[0] if len(rendered) == 1 else rendered
    if context is not None:
        out["@context"] = context
    return out
