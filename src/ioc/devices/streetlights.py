"""Streetlight operations: pick the lights a target names, and send each its command over MQTT.

Lights, groups and cabinets are NGSI-LD entities (SDM Streetlight, StreetlightGroup,
StreetlightControlCabinet). A target is one light, a group (lights naming it in
``refStreetlightGroup``, and the group's ``refStreetlight``), a cabinet (lights naming it in
``refStreetlightControlCabinet``, and the lights of its groups) or a place (every light whose
location falls in that commune, or district). Each light inside the caller's scope with a
registered device gets a command through ``ioc.ingest.commands.send_command``; the device's
acknowledgement becomes the command's status, read back in :func:`operation_out`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.context.service import DEFAULT_TENANT, Broker
from ioc.context.store import Stored
from ioc.core.events import emit
from ioc.core.problems import Invalid, NotFound, Problem
from ioc.core.scope import Scope
from ioc.devices import entities
from ioc.devices.models import StreetlightOperation
from ioc.ingest import commands as ingest_commands
from ioc.ingest.models import Command
from ioc.ingest.service import registry

ACTIONS = ("switch", "dim", "schedule")
TARGET_KINDS = ("light", "group", "cabinet", "commune")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(slots=True)
class Light:
    """A streetlight as operations and fault scans need it."""

    stored: Stored
    values: dict[str, Any]  # keyValues, local names
    place_code: str | None

    @property
    def id(self) -> str:
        return self.stored.id

    @property
    def group(self) -> str | None:
        return entities.ref(self.values.get("refStreetlightGroup"))

    @property
    def cabinet(self) -> str | None:
        return entities.ref(self.values.get("refStreetlightControlCabinet"))


@dataclass(slots=True)
class Inventory:
    """Every light, group and cabinet of a tenant, read once."""

    lights: dict[str, Light]
    groups: dict[str, dict[str, Any]]
    cabinets: dict[str, dict[str, Any]]


def inventory(session: Session, broker: Broker, tenant: str = DEFAULT_TENANT) -> Inventory:
    conn = session.connection()
    where = entities.Places(session)
    lights: dict[str, Light] = {}
    for stored in entities.of_type(broker, conn, tenant, "Streetlight"):
        values = entities.key_values(stored)
        lights[stored.id] = Light(stored, values, where.commune(entities.point(values)))
    groups = {
        s.id: entities.key_values(s)
        for s in entities.of_type(broker, conn, tenant, "StreetlightGroup")
    }
    cabinets = {
        s.id: entities.key_values(s)
        for s in entities.of_type(broker, conn, tenant, "StreetlightControlCabinet")
    }
    return Inventory(lights, groups, cabinets)


def select_lights(
    session: Session, inv: Inventory, kind: str, target: str, scope: Scope
) -> list[Light]:
    """The lights a target names, inside the caller's scope (NotFound when none is)."""
    where = entities.Places(session)
    if kind == "light":
        chosen = [inv.lights[target]] if target in inv.lights else []
    elif kind == "group":
        listed = set(entities.refs(inv.groups.get(target, {}).get("refStreetlight")))
        chosen = [li for li in inv.lights.values() if li.group == target or li.id in listed]
    elif kind == "cabinet":
        cabinet = inv.cabinets.get(target, {})
        groups = set(entities.refs(cabinet.get("refStreetlightGroup")))
        groups |= {
            gid
            for gid, g in inv.groups.items()
            if entities.ref(g.get("refStreetlightControlCabinet")) == target
        }
        listed = {
            i for g in groups for i in entities.refs(inv.groups.get(g, {}).get("refStreetlight"))
        }
        chosen = [
            li
            for li in inv.lights.values()
            if li.cabinet == target or li.group in groups or li.id in listed
        ]
    elif kind == "commune":
        root = where.index.get(target)
        if root is None:
            raise Invalid("target.commune", f"unknown place code {target!r}")
        chosen = [li for li in inv.lights.values() if where.within(li.place_code, root.path)]
    else:
        raise Invalid("target", f"one of {', '.join(TARGET_KINDS)}")
    visible = [li for li in chosen if where.in_scope(scope, li.place_code)]
    if not visible:
        raise NotFound(f"no streetlight in {kind} {target} (inside your scope)")
    return sorted(visible, key=lambda li: li.id)


def check_value(action: str, value: Any) -> Any:
    """The command's value, checked for its action (Invalid naming ``value`` otherwise)."""
    if action == "switch":
        if value not in ("on", "off"):
            raise Invalid("value", "switch takes 'on' or 'off'")
        return value
    if action == "dim":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise Invalid("value", "dim takes a level from 0 to 100 (percent)")
        return int(value) if float(value).is_integer() else float(value)
    if action == "schedule":
        if not isinstance(value, dict) or set(value) != {"on", "off"}:
            raise Invalid("value", 'schedule takes {"on": "HH:MM", "off": "HH:MM"} (Vietnam time)')
        for key in ("on", "off"):
            if not isinstance(value[key], str) or not _HHMM.match(value[key]):
                raise Invalid(f"value.{key}", "a time of day as HH:MM")
        return {"on": value["on"], "off": value["off"]}
    raise Invalid("action", f"one of {', '.join(ACTIONS)}")


def devices_by_entity(session: Session, tenant: str) -> dict[str, str]:
    """Entity id → the device registered for it (from the ingest registry)."""
    found: dict[str, str] = {}
    for device in registry(session).values():
        if device.tenant == tenant:
            found.setdefault(device.entity_id, device.device_id)
    return found


def operate(
    session: Session,
    broker: Broker,
    scope: Scope,
    actor: str,
    *,
    action: str,
    target_kind: str,
    target: str,
    value: Any,
    tenant: str = DEFAULT_TENANT,
) -> StreetlightOperation:
    """Send ``action`` to every light the target names; the caller commits."""
    value = check_value(action, value)
    lights = select_lights(session, inventory(session, broker, tenant), target_kind, target, scope)
    devices = devices_by_entity(session, tenant)
    sent: list[dict[str, Any]] = []
    for light in lights:
        device = devices.get(light.id)
        entry: dict[str, Any] = {"light": light.id, "device": device, "command_id": None}
        if device is None:
            entry["reason"] = "no device is registered for this light"
        else:
            try:
                command = ingest_commands.send_command(session, device, action, value, actor)
                entry["command_id"] = command.id
            except Problem as problem:
                entry["reason"] = problem.detail
        sent.append(entry)
    places = {li.place_code for li in lights}
    operation = StreetlightOperation(
        tenant=tenant,
        action=action,
        target_kind=target_kind,
        target_id=target,
        value={"value": value},
        place_code=target
        if target_kind == "commune"
        else (places.pop() if len(places) == 1 else None),
        actor=actor,
        lights=sent,
    )
    session.add(operation)
    session.flush()
    emit(
        session,
        "streetlight.command",
        {
            "operation_id": operation.id,
            "action": action,
            "value": value,
            "target": {"kind": target_kind, "id": target},
            "lights": len(sent),
            "commands": sum(1 for e in sent if e["command_id"] is not None),
        },
        subject=target[:200],
        place_code=operation.place_code,
    )
    return operation


def get_operation(session: Session, operation_id: int, scope: Scope) -> StreetlightOperation:
    operation = session.get(StreetlightOperation, operation_id)
    if operation is None or not scope.contains_place(session, operation.place_code):
        raise NotFound(f"no streetlight operation {operation_id}")
    return operation


def list_operations(
    session: Session, scope: Scope, limit: int, offset: int
) -> list[StreetlightOperation]:
    o = StreetlightOperation
    stmt = select(o).where(scope.where(place=o.place_code)).order_by(o.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def operation_out(session: Session, operation: StreetlightOperation) -> dict[str, Any]:
    """The operation with each light's command status (PENDING, SENT, OK, ERROR, EXPIRED)."""
    ids = [e["command_id"] for e in operation.lights if e.get("command_id") is not None]
    found = (
        {c.id: c for c in session.scalars(select(Command).where(Command.id.in_(ids)))}
        if ids
        else {}
    )
    lights: list[dict[str, Any]] = []
    summary: dict[str, int] = {}
    for entry in operation.lights:
        command = found.get(entry.get("command_id") or 0)
        status = command.status if command is not None else "NOT_SENT"
        summary[status] = summary.get(status, 0) + 1
        lights.append(
            {
                "light": entry["light"],
                "device": entry.get("device"),
                "command_id": entry.get("command_id"),
                "status": status,
                "info": command.info if command is not None else entry.get("reason", ""),
            }
        )
    return {
        "id": operation.id,
        "action": operation.action,
        "value": operation.value.get("value"),
        "target": {"kind": operation.target_kind, "id": operation.target_id},
        "place_code": operation.place_code,
        "actor": operation.actor,
        "created_at": operation.created_at,
        "status": summary,
        "lights": lights,
    }
