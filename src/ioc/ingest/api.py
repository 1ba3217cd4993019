"""Devices REST API (registry, commands, dead letters) and the IoT Agent JSON HTTP south port."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from ioc.context.api import runtime
from ioc.core.auth import Principal
from ioc.core.db import utcnow
from ioc.core.deps import Limit, Offset, SessionDep, SettingsDep, require
from ioc.core.problems import NotFound, Problem
from ioc.ingest import commands, service
from ioc.ingest.bridge import ACTOR, deliver
from ioc.ingest.models import Command
from ioc.ingest.schemas import (
    CommandCreate,
    CommandPublic,
    DeadLetterPublic,
    DeviceCreate,
    DevicePublic,
    DeviceUpdate,
)
from ioc.ingest.service import Rejected

router = APIRouter(prefix="/api/v1", tags=["devices"])
south = APIRouter(tags=["devices"])
Staff = Annotated[Principal, require("operator")]  # admin always passes


class MeasurementRejected(Problem):
    status = 400
    slug = "measurement-rejected"
    title = "Measurement rejected (kept as a dead letter)"


class UnknownDevice(MeasurementRejected):
    status = 404
    slug = "unknown-device"
    title = "No such device for this API key (kept as a dead letter)"


@router.get("/devices")
def list_devices(
    session: SessionDep, principal: Staff, limit: Limit = 100, offset: Offset = 0
) -> list[DevicePublic]:
    """Registered devices inside the caller's scope."""
    found = service.list_devices(session, principal.scope, limit, offset)
    return [DevicePublic.model_validate(d) for d in found]


@router.post("/devices", status_code=201)
def add_device(body: DeviceCreate, session: SessionDep, principal: Staff) -> DevicePublic:
    """Register a device: its topics' API key, its entity, attribute mapping, commands, place."""
    device = service.add_device(session, body, principal.scope)
    session.commit()
    return DevicePublic.model_validate(device)


@router.get("/devices/{device_id}")
def get_device(device_id: str, session: SessionDep, principal: Staff) -> DevicePublic:
    return DevicePublic.model_validate(service.get_device(session, device_id, principal.scope))


@router.patch("/devices/{device_id}")
def update_device(
    device_id: str, body: DeviceUpdate, session: SessionDep, principal: Staff
) -> DevicePublic:
    device = service.get_device(session, device_id, principal.scope)
    service.update_device(session, device, body, principal.scope)
    session.commit()
    return DevicePublic.model_validate(device)


@router.delete("/devices/{device_id}", status_code=204)
def remove_device(device_id: str, session: SessionDep, principal: Staff) -> Response:
    service.remove_device(session, service.get_device(session, device_id, principal.scope))
    session.commit()
    return Response(status_code=204)


@router.post("/devices/{device_id}/commands", status_code=202)
def send_command(
    device_id: str,
    body: CommandCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: Staff,
) -> CommandPublic:
    """Queue a command (PENDING); the bridge publishes it and the device's cmdexe settles it."""
    service.get_device(session, device_id, principal.scope)
    expires = body.expires_in or settings.ingest_command_seconds
    command = commands.send_command(
        session, device_id, body.name, body.value, principal.actor, expires_in=expires
    )
    session.commit()
    return _command_out(command)


@router.get("/devices/{device_id}/commands")
def list_commands(
    device_id: str, session: SessionDep, principal: Staff, limit: Limit = 100, offset: Offset = 0
) -> list[CommandPublic]:
    """The device's commands, newest first."""
    service.get_device(session, device_id, principal.scope)
    return [_command_out(c) for c in commands.list_commands(session, device_id, limit, offset)]


@router.get("/devices/{device_id}/commands/{command_id}")
def get_command(
    device_id: str, command_id: int, session: SessionDep, principal: Staff
) -> CommandPublic:
    service.get_device(session, device_id, principal.scope)
    command = commands.get_command(session, command_id)
    if command.device_id != device_id:
        raise NotFound(f"no command {command_id} for device {device_id!r}")
    return _command_out(command)


@router.get("/ingest/deadletters")
def dead_letters(
    session: SessionDep,
    principal: Staff,
    device: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DeadLetterPublic]:
    """Messages the bridge or the HTTP port could not take, newest first, with the reason."""
    found = service.list_dead_letters(session, principal.scope, device, limit, offset)
    return [DeadLetterPublic.model_validate(letter) for letter in found]


def _command_out(command: Command) -> CommandPublic:
    out = CommandPublic.model_validate(command)
    out.value = command.value.get("value")
    return out


# -- the HTTP south port (IoT Agent JSON) --------------------------------------------------


@south.post("/iot/json")
async def http_measurement(
    request: Request,
    k: Annotated[str, Query(description="the device's API key")],
    i: Annotated[str, Query(description="the device id")],
    get_cmd: Annotated[int, Query(alias="getCmd", description="1: answer pending commands")] = 0,
) -> dict[str, Any]:
    """Measurements as a JSON object, as an IoT Agent JSON device posts them; with
    ``getCmd=1`` the answer carries the device's pending commands ``{name: value}``."""
    payload = await request.body()
    received = utcnow()
    topic = f"http:/iot/json?k={k}&i={i}"
    broker = runtime(request.app).broker

    def work(session: Session) -> tuple[Rejected | None, dict[str, Any]]:
        device = service.registry(session).get(i)
        try:
            if device is None or device.apikey != k:
                raise Rejected(f"unknown device {i!r} for this API key", status=404)
            try:
                values = orjson.loads(payload)
            except orjson.JSONDecodeError as exc:
                raise Rejected(f"not JSON: {exc}") from exc
            measured = service.parse_values(device, values, received)
            service.write(broker, session, device, measured.attrs)
        except (Rejected, Problem) as exc:
            rejected = exc if isinstance(exc, Rejected) else Rejected(exc.detail)
            service.dead_letter(session, topic, payload, str(rejected), i)
            return rejected, {}
        pending: dict[str, Any] = {}
        if get_cmd == 1:
            for _, body in deliver(broker, session, device_id=device.device_id):
                pending.update(orjson.loads(body))
        return None, pending

    rejected, pending = await broker.writer.run(work, ACTOR, None)
    if rejected is not None:
        kind = UnknownDevice if rejected.status == 404 else MeasurementRejected
        raise kind(str(rejected))
    return pending
