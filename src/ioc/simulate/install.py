"""Writing a fleet: its entities through the broker's batch path, its devices into the registry.

Idempotent: entities already there and devices already registered are left as they are, so
the demo, a restarted server and ``ioc simulate devices`` can all call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context import batch
from ioc.context.entities import parse_entity
from ioc.context.errors import AlreadyExists
from ioc.context.jsonld import CORE_TERMS
from ioc.context.service import DEFAULT_TENANT, Broker
from ioc.core.models import Place
from ioc.core.scope import Scope
from ioc.ingest.models import Device
from ioc.ingest.schemas import AttributeMap, DeviceCreate
from ioc.ingest.service import add_device
from ioc.simulate.fleet import ATTRIBUTES, LIGHT_COMMANDS, TYPES, Fleet, Spec

EVERYWHERE = Scope.everywhere()
RELATIONSHIPS = frozenset({"refStreetlightGroup", "refStreetlightControlCabinet", "refStreetlight"})


@dataclass(frozen=True, slots=True)
class Installed:
    entities: int  # created now
    devices: int  # registered now


def normalized(doc: dict[str, Any]) -> dict[str, Any]:
    """A keyValues entity as NGSI-LD: GeoProperty location, Relationships for ``ref…``."""
    out: dict[str, Any] = {"id": doc["id"], "type": doc["type"]}
    for name, value in doc.items():
        if name in ("id", "type"):
            continue
        if name == "location":
            out[name] = {"type": "GeoProperty", "value": value}
        elif name in RELATIONSHIPS:
            out[name] = {"type": "Relationship", "object": value}
        else:
            out[name] = {"type": "Property", "value": value}
    return out


def device_body(fleet: Fleet, spec: Spec) -> DeviceCreate:
    return DeviceCreate(
        device_id=spec.device_id,
        apikey=fleet.apikey,
        entity_id=spec.entity_id,
        entity_type=TYPES[spec.kind],
        attributes=[
            AttributeMap(object_id=short, name=name, type=kind, unit_code=unit)
            for short, (name, kind, unit) in ATTRIBUTES[spec.kind].items()
        ],
        commands=list(LIGHT_COMMANDS) if spec.kind == "light" else [],
        place_code=spec.place_code or None,
        protocol="mqtt",
    )


def install(
    session: Session, broker: Broker, fleet: Fleet, tenant: str = DEFAULT_TENANT
) -> Installed:
    """Create what is missing of the fleet; the caller commits."""
    known = set(session.scalars(select(Device.device_id).where(Device.apikey == fleet.apikey)))
    docs = [*fleet.cabinets, *fleet.groups]
    docs += [d.entity for d in fleet.devices if d.device_id not in known]
    items: list[batch.Item] = [parse_entity(normalized(doc), CORE_TERMS) for doc in docs]
    result = batch.run(broker, session, tenant, "create", items, EVERYWHERE)
    for _, problem in result.errors:
        if not isinstance(problem, AlreadyExists):
            raise problem  # a fleet the broker refuses is a bug here, not data to skip
    codes = {d.place_code for d in fleet.devices if d.place_code}
    held = list(session.scalars(select(Place).where(Place.code.in_(codes))))  # no get() query each
    registered = 0
    for spec in fleet.devices:
        if spec.device_id not in known:
            add_device(session, device_body(fleet, spec), EVERYWHERE)
            registered += 1
    del held
    return Installed(len(result.created), registered)
