"""NGSI-LD subscriptions as clients write them → checked, expanded for storage, and back.

A subscription (ETSI GS CIM 009, 5.2.12) selects entities by ``entities`` (type with id or
idPattern), ``watchedAttributes``, ``q`` and ``geoQ``, and says where and how to notify
(``notification``: endpoint, format, attributes). Every error is BadRequestData naming the
member at fault (``notification.endpoint.uri: …``); what ioc does not do is
OperationNotSupported. Names are stored expanded; ``q`` stays text, read in the
subscription's own @context.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from ioc.context import qlang
from ioc.context.entities import attribute_name, entity_id, entity_type
from ioc.context.errors import BadRequestData, OperationNotSupported
from ioc.context.geo import parse_geoquery
from ioc.context.http import JSON, JSON_LD
from ioc.context.jsonld import TermMap
from ioc.context.render import FORMATS

SCHEMES = ("http", "https", "mqtt", "mqtts")
# The entity events each trigger fires on (events do not tell a new attribute from a changed one).
TRIGGERS = {
    "entityCreated": "created",
    "entityUpdated": "updated",
    "entityDeleted": "deleted",
    "attributeCreated": "created updated",
    "attributeUpdated": "updated",
}
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")
UNSUPPORTED = ("timeInterval", "csf", "scopeQ", "temporalQ", "lang", "datasetId")
MEMBERS = frozenset(
    {
        "id",
        "type",
        "subscriptionName",
        "description",
        "entities",
        "watchedAttributes",
        "notificationTrigger",
        "q",
        "geoQ",
        "notification",
        "expiresAt",
        "throttling",
        "isActive",
        "jsonldContext",
    }
)
READ_ONLY = frozenset({"@context", "status", "createdAt", "modifiedAt"})
NOTIFICATION_MEMBERS = frozenset({"attributes", "format", "sysAttrs", "endpoint", "showChanges"})
NOTIFICATION_STATUS = frozenset(
    {
        "status",
        "timesSent",
        "timesFailed",
        "lastNotification",
        "lastSuccess",
        "lastFailure",
        "lastErrorReason",
    }
)
MQTT_VERSIONS = ("mqtt3.1.1", "mqtt5.0")
NOTIFIER_STATE = "ngsild_notifier"  # app.state attribute of the running notifier


def redact(uri: str) -> str:
    """The URI with any password taken out, for logs and the audit log."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def new_id() -> str:
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestData(f"{field}: must be a non-empty string")
    return value


def _names(value: Any, field: str, terms: TermMap) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{field}: must be a non-empty array of attribute names")
    out = []
    for i, name in enumerate(value):
        try:
            out.append(attribute_name(_string(name, f"{field}[{i}]"), terms))
        except BadRequestData as exc:
            raise BadRequestData(f"{field}[{i}]: {name!r} is not an attribute name") from exc
    return out


def _key_values(value: Any, field: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise BadRequestData(f"{field}: must be an array of {{key, value}} objects")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"key", "value"}:
            raise BadRequestData(f"{field}[{i}]: must be an object with key and value only")
        key = _string(item["key"], f"{field}[{i}].key")
        if not isinstance(item["value"], str) or any(c in key for c in ":\r\n "):
            raise BadRequestData(f"{field}[{i}]: a header name and a string value")
        out.append({"key": key, "value": item["value"]})
    return out


def moment(value: Any, field: str) -> dt.datetime:
    """An ISO 8601 date-time with a zone (UTC if none is given)."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise BadRequestData(f"{field}: must be an ISO 8601 date-time, got {value!r}")


def _entities(value: Any, terms: TermMap) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("entities: must be a non-empty array of entity selectors")
    out = []
    for i, item in enumerate(value):
        field = f"entities[{i}]"
        if not isinstance(item, dict):
            raise BadRequestData(f"{field}: must be an object with type, and id or idPattern")
        extra = set(item) - {"id", "idPattern", "type"}
        if extra:
            raise BadRequestData(f"{field}: unknown member {sorted(extra)[0]!r}")
        if "type" not in item:
            raise BadRequestData(f"{field}.type: an entity selector needs a type")
        selector = {"type": entity_type(item["type"], terms, f"{field}.type")}
        if "id" in item:
            selector["id"] = entity_id(item["id"], f"{field}.id")
        if "idPattern" in item:
            pattern = _string(item["idPattern"], f"{field}.idPattern")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise BadRequestData(
                    f"{field}.idPattern: not a regular expression ({exc})"
                ) from None
            selector["idPattern"] = pattern
        out.append(selector)
    return out


def _geo(value: Any, terms: TermMap) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("geoQ: must be an object with geometry, coordinates and georel")
    coordinates = value.get("coordinates")
    if coordinates is not None and not isinstance(coordinates, str):
        coordinates = orjson.dumps(coordinates).decode()
    params = {
        "georel": value.get("georel"),
        "geometry": value.get("geometry"),
        "coordinates": coordinates,
        "geoproperty": value.get("geoproperty"),
    }
    for name in ("georel", "geometry", "coordinates"):
        if not isinstance(params[name], str):
            raise BadRequestData(f"geoQ.{name}: missing or not a string")
    try:
        query = parse_geoquery({k: v for k, v in params.items() if v is not None}, terms)
    except BadRequestData as exc:
        raise BadRequestData(f"geoQ.{exc.detail}") from None
    assert query is not None
    return {
        "georel": params["georel"],
        "geometry": query.geometry["type"],
        "coordinates": query.geometry["coordinates"],
        "geoproperty": query.geoproperty,
    }


def geo_params(geo: Mapping[str, Any]) -> dict[str, str]:
    """A stored geoQ as the parameters ``parse_geoquery`` reads (geoproperty expanded)."""
    return {
        "georel": geo["georel"],
        "geometry": geo["geometry"],
        "coordinates": orjson.dumps(geo["coordinates"]).decode(),
        "geoproperty": geo["geoproperty"],
    }


def _endpoint(value: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    field = "notification.endpoint"
    if not isinstance(value, dict):
        raise BadRequestData(f"{field}: must be an object with a uri")
    uri = _string(value.get("uri"), f"{field}.uri")
    parts = urlsplit(uri)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise BadRequestData(f"{field}.uri: {uri[:100]!r} is not an http(s):// or mqtt(s):// URL")
    try:
        _ = parts.port
    except ValueError:
        raise BadRequestData(f"{field}.uri: {uri[:100]!r} has a bad port") from None
    if parts.scheme.startswith("mqtt") and not parts.path.strip("/"):
        raise BadRequestData(
            f"{field}.uri: an MQTT endpoint names its topic: mqtt://host:1883/topic"
        )
    accept = value.get("accept", JSON)
    if accept not in (JSON, JSON_LD):
        raise BadRequestData(f"{field}.accept: {JSON} or {JSON_LD}")
    out: dict[str, Any] = {"uri": uri, "accept": accept}
    receiver = _key_values(value.get("receiverInfo", []), f"{field}.receiverInfo")
    notifier = _key_values(value.get("notifierInfo", []), f"{field}.notifierInfo")
    for i, item in enumerate(notifier):
        key, val = item["key"], item["value"]
        if key == "MQTT-QoS" and val not in ("0", "1", "2"):
            raise BadRequestData(f"{field}.notifierInfo[{i}]: MQTT-QoS is 0, 1 or 2")
        if key == "MQTT-Version" and val not in MQTT_VERSIONS:
            raise BadRequestData(f"{field}.notifierInfo[{i}]: MQTT-Version is mqtt3.1.1 or mqtt5.0")
    if notifier:
        out["notifierInfo"] = notifier
    extra = set(value) - {"uri", "accept", "receiverInfo", "notifierInfo"}
    if extra:
        raise BadRequestData(f"{field}: unknown member {sorted(extra)[0]!r}")
    return out, receiver


def _notification(value: Any, terms: TermMap) -> tuple[dict[str, Any], list[dict[str, str]]]:
    if not isinstance(value, dict):
        raise BadRequestData("notification: must be an object with an endpoint")
    extra = set(value) - NOTIFICATION_MEMBERS - NOTIFICATION_STATUS
    if extra:
        raise BadRequestData(f"notification: unknown member {sorted(extra)[0]!r}")
    if value.get("showChanges"):
        raise OperationNotSupported("notification.showChanges: previous values are not kept")
    fmt = value.get("format", "normalized")
    fmt = "keyValues" if fmt == "simplified" else fmt
    if fmt not in FORMATS:
        raise BadRequestData(f"notification.format: one of {', '.join(FORMATS)}")
    if "endpoint" not in value:
        raise BadRequestData("notification.endpoint: a notification needs an endpoint")
    endpoint, receiver = _endpoint(value["endpoint"])
    out: dict[str, Any] = {"format": fmt, "endpoint": endpoint}
    if "attributes" in value:
        out["attributes"] = _names(value["attributes"], "notification.attributes", terms)
    if "sysAttrs" in value:
        if not isinstance(value["sysAttrs"], bool):
            raise BadRequestData("notification.sysAttrs: true or false")
        out["sysAttrs"] = value["sysAttrs"]
    return out, receiver


@dataclass(slots=True)
class Parsed:
    """A checked subscription: the stored document and the columns beside it."""

    id: str
    document: dict[str, Any]
    receiver_info: list[dict[str, str]]
    is_active: bool
    expires_at: dt.datetime | None


def parse(body: Any, terms: TermMap, context: Any, now: dt.datetime | None) -> Parsed:
    """A whole subscription from a request body; ``context`` is the one it was written in.

    ``now`` checks that ``expiresAt`` is in the future (None: a PATCH that left it alone)."""
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a JSON object")
    for name in UNSUPPORTED:
        if name in body:
            raise OperationNotSupported(f"{name}: not supported by this broker")
    extra = set(body) - MEMBERS - READ_ONLY
    if extra:
        raise BadRequestData(f"{sorted(extra)[0]}: not a member of a subscription")
    if body.get("type") != "Subscription":
        raise BadRequestData('type: must be "Subscription"')
    sid = entity_id(body["id"], "id") if "id" in body else new_id()
    doc: dict[str, Any] = {"@context": context}
    for name in ("subscriptionName", "description"):
        if name in body:
            doc[name] = _string(body[name], name)
    if "entities" in body:
        doc["entities"] = _entities(body["entities"], terms)
    if "watchedAttributes" in body:
        doc["watchedAttributes"] = _names(body["watchedAttributes"], "watchedAttributes", terms)
    if "entities" not in doc and "watchedAttributes" not in doc:
        raise BadRequestData("entities: give entities or watchedAttributes (or both)")
    if "notificationTrigger" in body:
        triggers = body["notificationTrigger"]
        if not isinstance(triggers, list) or not triggers:
            raise BadRequestData("notificationTrigger: must be a non-empty array")
        for i, trigger in enumerate(triggers):
            if trigger == "attributeDeleted":
                raise OperationNotSupported(
                    f"notificationTrigger[{i}]: entity events do not tell deleted attributes apart"
                )
            if trigger not in TRIGGERS:
                raise BadRequestData(
                    f"notificationTrigger[{i}]: {trigger!r} is not one of {', '.join(TRIGGERS)}"
                )
        doc["notificationTrigger"] = list(dict.fromkeys(triggers))
    if "q" in body:
        doc["q"] = _string(body["q"], "q")
        qlang.parse(doc["q"], terms)
    if "geoQ" in body:
        doc["geoQ"] = _geo(body["geoQ"], terms)
    if "throttling" in body:
        throttling = body["throttling"]
        if (
            isinstance(throttling, bool)
            or not isinstance(throttling, int | float)
            or throttling <= 0
        ):
            raise BadRequestData("throttling: a number of seconds greater than 0")
        doc["throttling"] = throttling
    if "jsonldContext" in body:
        doc["jsonldContext"] = entity_id(body["jsonldContext"], "jsonldContext")
    if "notification" not in body:
        raise BadRequestData("notification: a subscription needs a notification member")
    doc["notification"], receiver = _notification(body["notification"], terms)
    is_active = body.get("isActive", True)
    if not isinstance(is_active, bool):
        raise BadRequestData("isActive: true or false")
    expires = None
    if body.get("expiresAt") is not None:
        expires = moment(body["expiresAt"], "expiresAt")
        if now is not None and expires <= now:
            raise BadRequestData(f"expiresAt: {body['expiresAt']} is not in the future")
    return Parsed(sid, doc, receiver, is_active, expires)


def merge(current: dict[str, Any], fragment: Any) -> dict[str, Any]:
    """PATCH: each member of the fragment replaces the stored one; ``notification``'s members
    are merged one level down (an endpoint is replaced whole)."""
    if not isinstance(fragment, dict) or not fragment:
        raise BadRequestData("the body must be a JSON object naming what to change")
    if "id" in fragment and fragment["id"] != current["id"]:
        raise BadRequestData(f"id: the body names {fragment['id']!r}, the path {current['id']}")
    merged = {**current}
    for name, value in fragment.items():
        if name in READ_ONLY:
            continue
        if name == "notification" and isinstance(value, dict):
            merged[name] = {**current.get(name, {}), **value}
        elif value is None:
            merged.pop(name, None)  # null removes an optional member
        else:
            merged[name] = value
    return merged
