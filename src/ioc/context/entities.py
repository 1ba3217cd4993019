"""Entities and attributes as clients send them → checked, expanded, normalized for storage.

Stored form: ``attrs`` maps an expanded attribute name to a list of instances (one per
``datasetId``); an instance is ``{"type": "Property", "value": …, "observedAt": …,
"datasetId": …, "createdAt": …, "modifiedAt": …, <expanded sub-attribute>: {instance}}``.
Values are kept as sent (keys inside a structured value are not expanded).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ioc.context.errors import BadRequestData, OperationNotSupported
from ioc.context.geo import checked_bbox
from ioc.context.jsonld import NGSI_LD, TermMap
from ioc.context.models import ID_LENGTH

# Attribute type → the member that carries its value.
VALUE_MEMBER = {
    "Property": "value",
    "Relationship": "object",
    "GeoProperty": "value",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "JsonProperty": "json",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
}
# A missing "type" is inferred from the value member (NGSI-LD 1.8 allows it).
INFERRED_TYPE = {
    "value": "Property",
    "object": "Relationship",
    "languageMap": "LanguageProperty",
    "vocab": "VocabProperty",
    "json": "JsonProperty",
    "valueList": "ListProperty",
    "objectList": "ListRelationship",
}
METADATA = frozenset({"observedAt", "unitCode", "datasetId", "objectType"})
SYSTEM = frozenset({"createdAt", "modifiedAt", "deletedAt", "instanceId", "lang"})
RESERVED = frozenset({"type", *INFERRED_TYPE, *METADATA, *SYSTEM})
ENTITY_MEMBERS = frozenset({"id", "@id", "type", "@type", "@context", "scope", *SYSTEM})
GEO_ATTRIBUTES = frozenset(NGSI_LD + n for n in ("location", "observationSpace", "operationSpace"))
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_BAD_NAME = re.compile(r"[\s<>\"'=;()\\]|^$")

Instance = dict[str, Any]
Attributes = dict[str, list[Instance]]


@dataclass(slots=True)
class NewEntity:
    """An entity from a request: its id, expanded type and normalized attributes."""

    id: str
    type: str | None
    attrs: Attributes


def entity_id(value: Any, field: str = "id") -> str:
    """A URI no longer than the store keeps; BadRequestData naming ``field`` otherwise."""
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"{field}: must be a URI string")
    if len(value) > ID_LENGTH or not _URI.match(value):
        raise BadRequestData(f"{field}: {value[:100]!r} is not a URI (e.g. urn:ngsi-ld:Type:id)")
    return value


def entity_type(value: Any, terms: TermMap, field: str = "type") -> str:
    """The expanded type; several types per entity are not supported yet."""
    if isinstance(value, list):
        if len(value) != 1:
            raise OperationNotSupported(f"{field}: entities with several types are not supported")
        value = value[0]
    if not isinstance(value, str) or not value or _BAD_NAME.search(value):
        raise BadRequestData(f"{field}: must be a type name or URI")
    expanded = terms.expand(value)
    if len(expanded) > ID_LENGTH:
        raise BadRequestData(f"{field}: longer than {ID_LENGTH} characters once expanded")
    return expanded


_GOOD_NAMES: set[str] = set()  # names already checked (a batch repeats the same few)


def attribute_name(name: str, terms: TermMap) -> str:
    if name not in _GOOD_NAMES:
        if _BAD_NAME.search(name):
            raise BadRequestData(f"{name!r}: not a valid attribute name")
        if len(_GOOD_NAMES) < 20_000:
            _GOOD_NAMES.add(name)
    return terms.expand(name)


def _datetime(value: Any, field: str) -> str:
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value)
            return value
        except ValueError:
            pass
    raise BadRequestData(f"{field}: must be an ISO 8601 date-time, got {value!r}")


def _relationship_object(value: Any, field: str) -> Any:
    if isinstance(value, list) and value:
        return [entity_id(v, field) for v in value]
    return entity_id(value, field)


def _value(kind: str, member: str, value: Any, field: str, terms: TermMap) -> Any:
    if value is None:
        raise BadRequestData(f"{field}: a {kind} needs a non-null {member!r}")
    if kind == "Property":  # most attributes: any JSON value
        return value
    if kind == "Relationship":
        return _relationship_object(value, f"{field}.object")
    if kind == "GeoProperty":
        checked_bbox(value, f"{field}.value")
    elif kind == "LanguageProperty":
        if not isinstance(value, dict) or not all(
            isinstance(v, str | list) for v in value.values()
        ):
            raise BadRequestData(f"{field}: languageMap maps language tags to strings")
    elif kind == "VocabProperty":
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(v, str) and v for v in names):
            raise BadRequestData(f"{field}: vocab is a term or a list of terms")
        expanded = [terms.expand(v) for v in names]
        return expanded if isinstance(value, list) else expanded[0]
    elif kind == "ListProperty" and not isinstance(value, list):
        raise BadRequestData(f"{field}: valueList must be an array")
    elif kind == "ListRelationship":
        if not isinstance(value, list):
            raise BadRequestData(f"{field}: objectList must be an array")
        return [
            {"object": entity_id(v.get("object") if isinstance(v, dict) else v, field)}
            for v in value
        ]
    return value


def parse_instance(
    raw: Any, field: str, terms: TermMap, *, partial: bool = False, kind_now: str | None = None
) -> Instance:
    """One attribute instance, normalized.

    ``partial`` accepts a fragment to merge into an instance of type ``kind_now``: members it
    lacks are kept from the stored instance, and its type is the stored one unless it says.
    """
    if not isinstance(raw, dict):
        raise BadRequestData(
            f"{field}: an attribute is an object with a type (Property, Relationship, "
            f"GeoProperty…) and its value, not {type(raw).__name__} {str(raw)[:60]}"
        )
    explicit = raw.get("type")
    if isinstance(explicit, str) and explicit.startswith(NGSI_LD):
        explicit = explicit[len(NGSI_LD) :]
    kind = explicit or kind_now
    if not kind:  # a member names the type (value, object, languageMap…)
        kind = next((INFERRED_TYPE[k] for k in raw if k in INFERRED_TYPE), None)
    out: Instance = {}
    if kind is None:
        if not partial:
            raise BadRequestData(f"{field}: the attribute has neither a type nor a value")
    else:
        if kind not in VALUE_MEMBER:
            raise BadRequestData(
                f"{field}: type {kind!r} is not an attribute type "
                f"(Property, Relationship, GeoProperty, {', '.join(list(VALUE_MEMBER)[3:])})"
            )
        member = VALUE_MEMBER[kind]
        if explicit or not partial:
            out["type"] = kind
        if member in raw or not partial or (explicit and explicit != kind_now):
            out[member] = _value(kind, member, raw.get(member), field, terms)
        if len(raw) == ("type" in raw) + (member in raw):
            return out  # the usual {"type", "value"}: no metadata, no sub-attributes
        stray = [m for m in raw if m in INFERRED_TYPE and m != member]
        if stray:
            raise BadRequestData(f"{field}: a {kind} has no {stray[0]!r} member")
    for key in ("observedAt",):
        if key in raw:
            out[key] = _datetime(raw[key], f"{field}.{key}")
    if "datasetId" in raw:
        out["datasetId"] = entity_id(raw["datasetId"], f"{field}.datasetId")
    if "unitCode" in raw:
        if not isinstance(raw["unitCode"], str):
            raise BadRequestData(f"{field}.unitCode: must be a string")
        out["unitCode"] = raw["unitCode"]
    if "objectType" in raw:
        out["objectType"] = terms.expand(str(raw["objectType"]))
    for name, value in raw.items():
        if name in RESERVED or name == "@context":
            continue
        sub_field = f"{field}.{name}"
        if isinstance(value, list):
            raise BadRequestData(f"{sub_field}: a sub-attribute has one instance")
        out[attribute_name(name, terms)] = parse_instance(value, sub_field, terms)
    return out


def parse_attribute(raw: Any, name: str, terms: TermMap) -> list[Instance]:
    """All instances of one attribute (an object, or an array of them with datasetIds)."""
    if not isinstance(raw, list):  # one instance: nothing can appear twice
        return [parse_instance(raw, name, terms)]
    if not raw:
        raise BadRequestData(f"{name}: an attribute needs at least one instance")
    instances = [parse_instance(item, name, terms) for item in raw]
    seen: set[str | None] = set()
    for instance in instances:
        dataset = instance.get("datasetId")
        if dataset in seen:
            which = f"datasetId {dataset}" if dataset else "the default instance (no datasetId)"
            raise BadRequestData(f"{name}: {which} appears twice")
        seen.add(dataset)
    return instances


def parse_attributes(doc: dict[str, Any], terms: TermMap) -> Attributes:
    """The attributes of an entity or a fragment (members other than id, type, @context…)."""
    attrs: Attributes = {}
    for name, raw in doc.items():
        if name in ENTITY_MEMBERS:
            continue
        expanded = attribute_name(name, terms)
        instances = parse_attribute(raw, name, terms)
        if expanded in GEO_ATTRIBUTES and any(i["type"] != "GeoProperty" for i in instances):
            raise BadRequestData(f"{name}: must be a GeoProperty")
        attrs[expanded] = instances
    return attrs


def parse_entity(doc: Any, terms: TermMap, *, need_type: bool = True) -> NewEntity:
    """A whole entity from a request body (id and type required unless told otherwise)."""
    if not isinstance(doc, dict):
        raise BadRequestData("an entity is a JSON object")
    if "scope" in doc:
        raise OperationNotSupported("scope: entity scopes are not supported yet")
    raw_type = doc.get("type", doc.get("@type"))
    if raw_type is None and need_type:
        raise BadRequestData("type: an entity needs a type")
    kind = entity_type(raw_type, terms) if raw_type is not None else None
    identifier = entity_id(doc.get("id", doc.get("@id")))
    return NewEntity(identifier, kind, parse_attributes(doc, terms))
