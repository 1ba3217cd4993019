"""The device registry and how a device's measurement becomes an NGSI-LD entity update.

Framework-neutral: the MQTT bridge, the HTTP south port and the CLI all call these. Every
accepted measurement is written through the NGSI-LD broker (``Broker.apply_edit`` /
``Broker.create``), so it is the same entity, the same ``entity.*`` event and the same
checks as an update sent to ``/ngsi-ld/v1``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context.changes import Change
from ioc.context.edits import Edit, Outcome, find
from ioc.context.entities import Attributes, Instance, NewEntity, attribute_name, entity_id
from ioc.context.errors import ResourceNotFound
from ioc.context.geo import check_geometry
from ioc.context.jsonld import CORE_TERMS
from ioc.context.render import timestamp
from ioc.context.service import Broker
from ioc.core.models import Place
from ioc.core.problems import Conflict, Invalid, NotFound, Problem
from ioc.core.refdata import Cache
from ioc.core.scope import Scope
from ioc.ingest import commands
from ioc.ingest.models import PROTOCOLS, DeadLetter, Device
from ioc.ingest.schemas import VALUE_TYPES, DeviceCreate, DeviceUpdate

TIME_KEY = "TimeInstant"  # the IoT Agent's name for a measurement's own time
MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)  # a device's clock may run this far ahead
EVERYWHERE = Scope.everywhere()
MAX_PAYLOAD_KEPT = 4000  # characters of a dead letter's payload kept
T = TypeVar("T")


class Rejected(Exception):
    """A message the bridge cannot take: it goes to the dead letters with this reason."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status  # what the HTTP south port answers


@dataclass(frozen=True, slots=True)
class Mapped:
    name: str  # expanded NGSI-LD attribute name
    type: str
    unit_code: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A device as the bridge needs it, built once per registry version."""

    device_id: str
    apikey: str
    tenant: str
    entity_id: str
    entity_type: str  # expanded
    attributes: dict[str, Mapped]
    commands: frozenset[str]
    place_code: str | None
    protocol: str


@dataclass(frozen=True, slots=True)
class Measurement:
    device: DeviceInfo
    attrs: Attributes
    observed: dt.datetime


# -- the registry ------------------------------------------------------------------------


def _info(device: Device) -> DeviceInfo:
    mapped = {
        a["object_id"]: Mapped(CORE_TERMS.expand(a["name"]), a["type"], a.get("unit_code"))
        for a in device.attributes
    }
    return DeviceInfo(
        device.device_id,
        device.apikey,
        device.tenant,
        device.entity_id,
        CORE_TERMS.expand(device.entity_type),
        mapped,
        frozenset(device.commands),
        device.place_code,
        device.protocol,
    )


def _build(session: Session) -> dict[str, DeviceInfo]:
    return {d.device_id: _info(d) for d in session.scalars(select(Device))}


REGISTRY: Cache[dict[str, DeviceInfo]] = Cache("ingest_devices_version", _build)


def registry(session: Session) -> dict[str, DeviceInfo]:
    """Every device, from this process's copy (one version query; rebuilt when it moved)."""
    return REGISTRY.get(session)


def _check_fields(
    session: Session, scope: Scope, place_code: str | None, protocol: str, attributes: list[Any]
) -> None:
    if place_code is not None and session.get(Place, place_code) is None:
        raise Invalid("place_code", f"unknown place code {place_code!r}")
    if not scope.contains_place(session, place_code):
        raise Invalid("place_code", "outside your scope")
    if protocol not in PROTOCOLS:
        raise Invalid("protocol", f"one of {', '.join(PROTOCOLS)}")
    seen: set[str] = set()
    for n, attribute in enumerate(attributes):
        if attribute.type not in VALUE_TYPES:
            raise Invalid(f"attributes.{n}.type", f"one of {', '.join(VALUE_TYPES)}")
        if attribute.object_id in seen or attribute.object_id == TIME_KEY:
            raise Invalid(f"attributes.{n}.object_id", f"{attribute.object_id!r} given twice")
        seen.add(attribute.object_id)


def add_device(session: Session, body: DeviceCreate, scope: Scope) -> Device:
    """Register a device (Conflict if its id is taken)."""
    _check_fields(session, scope, body.place_code, body.protocol, body.attributes)
    if session.get(Device, body.device_id) is not None:
        raise Conflict(f"device {body.device_id!r} is already registered")
    for n, name in enumerate(body.commands):
        if not name or len(name) > 100 or "/" in name or name == TIME_KEY:
            raise Invalid(f"commands.{n}", "a command name without '/'")
    kind = body.entity_type
    try:
        eid = entity_id(body.entity_id or f"urn:ngsi-ld:{kind}:{body.device_id}", "entity_id")
        attribute_name(kind, CORE_TERMS)
    except Problem as exc:
        raise Invalid("entity_id", exc.detail) from exc
    device = Device(
        device_id=body.device_id,
        apikey=body.apikey,
        tenant=body.tenant,
        entity_id=eid,
        entity_type=kind,
        attributes=[a.model_dump(exclude_none=True) for a in body.attributes],
        commands=list(dict.fromkeys(body.commands)),
        place_code=body.place_code,
        protocol=body.protocol,
    )
    session.add(device)
    session.flush()
    return device


def get_device(session: Session, device_id: str, scope: Scope) -> Device:
    """A device inside the scope; NotFound otherwise (existence outside is not disclosed)."""
    device = session.get(Device, device_id)
    if device is None or not scope.contains_place(session, device.place_code):
        raise NotFound(f"no device {device_id!r}")
    return device


def list_devices(session: Session, scope: Scope, limit: int = 100, offset: int = 0) -> list[Device]:
    query = select(Device).where(scope.where(place=Device.place_code)).order_by(Device.device_id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def update_device(session: Session, device: Device, body: DeviceUpdate, scope: Scope) -> Device:
    given = body.model_fields_set
    place = body.place_code if "place_code" in given else device.place_code
    protocol = body.protocol or device.protocol
    attributes = body.attributes if body.attributes is not None else []
    _check_fields(session, scope, place, protocol, attributes)
    if body.apikey is not None:
        device.apikey = body.apikey
    if body.attributes is not None:
        device.attributes = [a.model_dump(exclude_none=True) for a in body.attributes]
    if body.commands is not None:
        device.commands = list(dict.fromkeys(body.commands))
    device.place_code = place
    device.protocol = protocol
    session.flush()
    return device


def remove_device(session: Session, device: Device) -> None:
    """Forget a device (its entity stays; its open commands expire at once)."""
    commands.cancel_for_device(session, device.device_id)
    session.delete(device)
    session.flush()


# -- measurements ------------------------------------------------------------------------


def _type_error(key: str, kind: str, value: Any) -> Rejected:
    return Rejected(f"{key}: expected {kind}, got {type(value).__name__} {str(value)[:40]!r}")


def _instance(key: str, mapped: Mapped, value: Any, observed: str, text: bool) -> Instance:
    """One measured value as an NGSI-LD instance; ``text``: a raw single-attribute payload."""
    kind = mapped.type
    if value is None:
        raise Rejected(f"{key}: null is not a measurement")
    if text and isinstance(value, str) and kind in ("Number", "Integer"):
        try:
            value = int(value) if kind == "Integer" else float(value)
        except ValueError as exc:
            raise _type_error(key, kind, value) from exc
    if kind == "Number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _type_error(key, kind, value)
    if kind == "Integer" and (isinstance(value, bool) or not isinstance(value, int)):
        raise _type_error(key, kind, value)
    if (kind == "Text" and not isinstance(value, str)) or (
        kind == "Boolean" and not isinstance(value, bool)
    ):
        raise _type_error(key, kind, value)
    if kind == "StructuredValue" and not isinstance(value, dict | list):
        raise _type_error(key, kind, value)
    instance: Instance = {"type": "Property", "value": value, "observedAt": observed}
    if kind in ("geo:point", "geo:json"):
        value = _geometry(key, kind, value)
        instance = {"type": "GeoProperty", "value": value, "observedAt": observed}
    elif kind == "Relationship":
        try:
            target = entity_id(value, key)
        except Problem as exc:
            raise Rejected(exc.detail) from exc
        instance = {"type": "Relationship", "object": target, "observedAt": observed}
    if mapped.unit_code:
        instance["unitCode"] = mapped.unit_code
    return instance


def _geometry(key: str, kind: str, value: Any) -> dict[str, Any]:
    if kind == "geo:point":
        try:
            lat, lon = (float(part) for part in str(value).split(","))
        except ValueError as exc:
            raise _type_error(key, "geo:point 'lat, lon'", value) from exc
        value = {"type": "Point", "coordinates": [lon, lat]}
    try:
        check_geometry(value, key)
    except Problem as exc:
        raise Rejected(exc.detail) from exc
    return dict(value)


def measurement_time(values: dict[str, Any], received: dt.datetime) -> dt.datetime:
    """The payload's ``TimeInstant`` if it has one, else when it was received."""
    raw = values.get(TIME_KEY)
    if raw is None:
        return received
    try:
        moment = dt.datetime.fromisoformat(raw if isinstance(raw, str) else str(raw))
    except ValueError as exc:
        raise Rejected(f"{TIME_KEY}: not an ISO 8601 date-time: {str(raw)[:40]!r}") from exc
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if moment - received > MAX_CLOCK_AHEAD:  # it would hide every real measurement until then
        raise Rejected(f"{TIME_KEY}: {raw} is in the future (check the device's clock)")
    return moment


def parse_values(
    device: DeviceInfo, values: Any, received: dt.datetime, *, text: bool = False
) -> Measurement:
    """A JSON object of measurements (short names) → expanded attributes; Rejected if bad."""
    if not isinstance(values, dict):
        raise Rejected("the payload must be a JSON object of measurements")
    observed_at = measurement_time(values, received)
    observed = utc_text(observed_at)
    attrs: Attributes = {}
    for key, value in values.items():
        if key == TIME_KEY:
            continue
        mapped = device.attributes.get(key)
        if mapped is None:  # passed through under its own name, as the IoT Agent does
            try:
                mapped = Mapped(attribute_name(key, CORE_TERMS), "any")
            except Problem as exc:
                raise Rejected(exc.detail) from exc
            if value is None:
                raise Rejected(f"{key}: null is not a measurement")
            attrs[mapped.name] = [{"type": "Property", "value": value, "observedAt": observed}]
            continue
        attrs[mapped.name] = [_instance(key, mapped, value, observed, text)]
    if not attrs:
        raise Rejected("no measurement in the payload")
    return Measurement(device, attrs, observed_at)


def utc_text(moment: dt.datetime) -> str:
    """``timestamp(moment)`` (…T08:00:00.000Z), through the faster ``isoformat``."""
    if moment.tzinfo is not dt.UTC:
        moment = moment.astimezone(dt.UTC)
    if moment.year < 1000:  # strftime and isoformat pad such years differently
        return timestamp(moment)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def _newer(observed: str, than: str | None) -> bool:
    if than is None:
        return True
    if len(observed) == len(than) == 24 and observed[23] == than[23] == "Z":
        return observed > than  # both as ``timestamp`` writes them: text order is time order
    try:
        return dt.datetime.fromisoformat(observed) > dt.datetime.fromisoformat(than)
    except ValueError:
        return True


def measurement_edit(attrs: Attributes) -> Edit:
    """Write each attribute unless the entity holds one observed at the same time or later:
    a message delivered again after a crash, or a late one, changes nothing."""

    def edit(stored: Any, now: str) -> Outcome:
        current = dict(stored.attrs)
        changed: list[str] = []
        for name, (instance,) in attrs.items():
            have = current.get(name)
            at = find(have, None) if have else None
            # a measured instance has no sub-attributes: its system times are these two
            if at is None:
                current[name] = [*(have or []), {**instance, "createdAt": now, "modifiedAt": now}]
            elif _newer(instance["observedAt"], have[at].get("observedAt")):  # type: ignore[index]
                created = have[at].get("createdAt") or now  # type: ignore[index]
                fresh = {**instance, "createdAt": created, "modifiedAt": now}
                current[name] = [*have[:at], fresh, *have[at + 1 :]]  # type: ignore[index]
            else:
                continue
            changed.append(name)
        return Outcome(current, changed)

    return edit


def write(broker: Broker, session: Session, device: DeviceInfo, attrs: Attributes) -> Change | None:
    """Apply measured attributes to the device's entity (created on its first measurement)."""
    try:
        return broker.apply_edit(
            session, device.tenant, device.entity_id, measurement_edit(attrs), EVERYWHERE
        )
    except ResourceNotFound:
        pass
    broker.ensure_tenant(session, device.tenant)
    fresh = {name: [dict(i) for i in instances] for name, instances in attrs.items()}
    return broker.create(
        session, device.tenant, NewEntity(device.entity_id, device.entity_type, fresh), EVERYWHERE
    )


def write_many(
    broker: Broker, session: Session, items: list[tuple[T, Measurement]]
) -> list[tuple[T, str]]:
    """Apply many measurements with one read and one write per batch (``Broker.apply_edits``);
    an entity not there yet, or refused, gets its measurements one by one. Returns the items
    refused, with the reason, for the dead letters."""
    planned: dict[str, dict[str, list[Edit]]] = {}
    for _, measured in items:
        device = measured.device
        edits = planned.setdefault(device.tenant, {}).setdefault(device.entity_id, [])
        edits.append(measurement_edit(measured.attrs))
    left: set[tuple[str, str]] = set()
    for tenant, by_entity in planned.items():
        _, missing = broker.apply_edits(session, tenant, by_entity, EVERYWHERE)
        left.update((tenant, entity) for entity in missing)
    refused: list[tuple[T, str]] = []
    for item, measured in items:
        if (measured.device.tenant, measured.device.entity_id) not in left:
            continue
        try:
            write(broker, session, measured.device, measured.attrs)
        except Problem as exc:
            refused.append((item, exc.detail))
    return refused


def command_attrs(name: str, status: str, info: str | None, at: dt.datetime) -> Attributes:
    """The entity's ``<cmd>_status`` (and ``<cmd>_info``) attributes, as the IoT Agent keeps."""
    observed = timestamp(at)
    attrs: Attributes = {
        CORE_TERMS.expand(f"{name}_status"): [
            {"type": "Property", "value": status, "observedAt": observed}
        ]
    }
    if info is not None:
        attrs[CORE_TERMS.expand(f"{name}_info")] = [
            {"type": "Property", "value": info, "observedAt": observed}
        ]
    return attrs


def dead_letter(
    session: Session, topic: str, payload: bytes | str, reason: str, device_id: str | None = None
) -> DeadLetter:
    """Keep a message that could not be taken, with why; the bridge goes on."""
    text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
    letter = DeadLetter(
        topic=topic[:512],
        payload=text[:MAX_PAYLOAD_KEPT],
        reason=reason[:2000],
        device_id=device_id[:128] if device_id else None,
    )
    session.add(letter)
    return letter


def list_dead_letters(
    session: Session, scope: Scope, device_id: str | None = None, limit: int = 100, offset: int = 0
) -> list[DeadLetter]:
    """Newest first; a place-scoped caller sees those of its own devices only."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc())
    if device_id is not None:
        query = query.where(DeadLetter.device_id == device_id)
    if scope.place_path is not None:
        inside = select(Device.device_id).where(scope.where(place=Device.place_code))
        query = query.where(DeadLetter.device_id.in_(inside))
    return list(session.scalars(query.limit(limit).offset(offset)))
