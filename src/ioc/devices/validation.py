"""FIWARE Smart Data Models: the JSON Schemas ioc ships and validation of entities against them.

The schemas (``schemas/*.json``) reproduce the properties of the smart-data-models repositories
(dataModel.Streetlighting, .Environment, .Transportation, .Device) that ioc uses, with their
``$ref``s to the SDM ``common-schema.json`` resolved from the copy shipped alongside, so
validating never touches the network. Entities are validated in keyValues form; a normalized
NGSI-LD entity is simplified first. Errors name the failing path (``location.coordinates``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from ioc.context.errors import BadRequestData
from ioc.context.jsonld import DEFAULT_VOCAB

COMMON_ID = "https://smart-data-models.github.io/data-models/common-schema.json"
TYPES = (
    "Streetlight",
    "StreetlightControlCabinet",
    "StreetlightGroup",
    "AirQualityObserved",
    "WaterQualityObserved",
    "WaterObserved",
    "TrafficFlowObserved",
    "Device",
    "DeviceMeasurement",
    "Camera",
)
ATTRIBUTE_TYPES = frozenset(
    {"Property", "Relationship", "GeoProperty", "LanguageProperty", "VocabProperty",
     "JsonProperty", "ListProperty", "ListRelationship"}
)  # fmt: skip
# Where a type of these models is defined: the core context's default vocabulary, the Smart
# Data Models context, and the older FIWARE data-models context.
NAMESPACES = (
    DEFAULT_VOCAB,
    "https://smartdatamodels.org/",
    "https://uri.fiware.org/ns/data-models#",
    "https://uri.fiware.org/ns/dataModels#",
)
_VALUE_MEMBERS = ("value", "object", "languageMap", "vocab", "json", "valueList", "objectList")

FORMATS = FormatChecker(())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    # SDM examples give ``dateObserved`` as an ISO 8601 interval too ("start/end").
    for part in value.split("/", 1):
        if "T" not in part.upper():
            return False  # a date alone is not a date-time
        dt.datetime.fromisoformat(part)  # ValueError: not ISO 8601
    return True


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and " " not in value


@FORMATS.checks("ipv4", raises=ValueError)
def _ipv4(value: object) -> bool:
    return not isinstance(value, str) or bool(ipaddress.IPv4Address(value))


@FORMATS.checks("ipv6", raises=ValueError)
def _ipv6(value: object) -> bool:
    return not isinstance(value, str) or bool(ipaddress.IPv6Address(value))


@dataclass(frozen=True, slots=True)
class Violation:
    """One way an entity breaks its schema: where (a dotted path) and why."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


def _load(name: str) -> dict[str, Any]:
    text = resources.files("ioc.devices").joinpath("schemas", f"{name}.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def schema(type_name: str) -> dict[str, Any]:
    """The JSON Schema document of a Smart Data Model (KeyError if ioc does not ship it)."""
    if type_name not in TYPES:
        raise KeyError(type_name)
    return _load(type_name)


@cache
def _registry() -> Registry[Any]:
    common: Resource[Any] = Resource.from_contents(_load("common-schema"))
    registry: Registry[Any] = Registry().with_resource(COMMON_ID, common)
    return registry


@cache
def _validator(type_name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(type_name), registry=_registry(), format_checker=FORMATS)


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


def _closest(errors: list[ValidationError]) -> ValidationError | None:
    """Of a oneOf's alternatives, the one whose ``type`` matched (a GeoJSON Point…), if any."""
    by_branch: dict[Any, list[ValidationError]] = {}
    for e in errors:
        by_branch.setdefault(e.schema_path[0] if e.schema_path else None, []).append(e)
    for branch in by_branch.values():
        if not any(list(e.relative_path) == ["type"] for e in branch):
            return branch[0]
    found: ValidationError | None = best_match(errors)
    return found


def _violation(error: ValidationError) -> Violation:
    if error.context:  # anyOf / oneOf: the alternative that came closest says more
        deeper = _closest(error.context)
        if deeper is not None and len(deeper.absolute_path) > len(error.absolute_path):
            error = deeper
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [p for p in required if p not in error.instance]
        if missing:
            return Violation(_path([*path, missing[0]]), "is required")
    message = error.message
    if len(message) > 300:
        message = message[:300] + "…"
    return Violation(_path(path) or "(entity)", message)


def simplify(entity: dict[str, Any]) -> dict[str, Any]:
    """keyValues of an entity: normalized NGSI-LD attributes are reduced to their values."""
    out: dict[str, Any] = {}
    for name, raw in entity.items():
        if name == "@context":
            continue
        out[name] = _simple(raw) if name not in ("id", "type") else raw
    return out


def _simple(raw: Any) -> Any:
    if isinstance(raw, list) and raw and all(_is_attribute(i) for i in raw):
        default = next((i for i in raw if "datasetId" not in i), raw[0])
        return _simple(default)
    if not _is_attribute(raw):
        return raw
    for member in _VALUE_MEMBERS:
        if member in raw:
            return _plain(raw[member])
    return None


def _is_attribute(raw: Any) -> bool:
    if not isinstance(raw, dict):
        return False
    kind = raw.get("type")
    if isinstance(kind, str) and kind.rsplit("/", 1)[-1] in ATTRIBUTE_TYPES:
        return True
    return kind is None and any(m in raw for m in _VALUE_MEMBERS)


def _plain(value: Any) -> Any:
    """``{"@type": "DateTime", "@value": "…"}`` → ``"…"`` (how NGSI-LD writes typed values)."""
    if isinstance(value, dict) and "@value" in value:
        return value["@value"]
    if isinstance(value, list):
        return [item.get("object", item) if isinstance(item, dict) else item for item in value]
    return value


def validate(type_name: str, entity: dict[str, Any]) -> list[Violation]:
    """Every violation of the type's schema by ``entity`` (keyValues or normalized), by path."""
    validator = _validator(type_name)
    document = simplify(entity)
    found = [_violation(e) for e in validator.iter_errors(document)]
    return sorted(set(found), key=lambda v: (v.path, v.message))


def local_name(iri: str) -> str:
    """The term an expanded name ends with (SDM and the default vocabulary agree on it)."""
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def stored_key_values(
    entity_id: str, type_iri: str, attrs: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """An entity as the broker stores it (expanded names) → keyValues with local names."""
    out: dict[str, Any] = {"id": entity_id, "type": local_name(type_iri)}
    for name, instances in attrs.items():
        if not instances:
            continue
        default = next((i for i in instances if "datasetId" not in i), instances[0])
        value = _simple(default)
        if default.get("type") == "VocabProperty":
            value = (
                [local_name(v) for v in value]
                if isinstance(value, list)
                else (local_name(str(value)))
            )
        out[local_name(name)] = value
    return out


def check_stored(entity_id: str, type_iri: str, attrs: dict[str, list[dict[str, Any]]]) -> None:
    """The broker's write hook: BadRequestData naming the failing path, for shipped types."""
    type_name = local_name(type_iri)
    if type_name not in TYPES or not type_iri.startswith(NAMESPACES):
        return
    violations = validate(type_name, stored_key_values(entity_id, type_iri, attrs))
    if violations:
        first = violations[0]
        raise BadRequestData(
            f"{first.path}: {first.message} (Smart Data Model {type_name})",
            errors=[v.to_dict() for v in violations],
        )
