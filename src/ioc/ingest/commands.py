"""Commands down to devices: stored PENDING, published by the bridge (SENT), then OK/ERROR
from the device's ``cmdexe`` acknowledgement, or EXPIRED when none comes in time.

``send_command`` is the public entry point (the REST API and other capabilities call it);
the bridge moves commands along with ``claim_pending``, ``acknowledge`` and ``expire``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ioc.core.db import utcnow
from ioc.core.problems import Invalid, NotFound
from ioc.ingest.models import Command, Device

DEFAULT_COMMAND_SECONDS = 60.0
OPEN = ("PENDING", "SENT")
MAX_VALUE_BYTES = 8192


def send_command(
    session: Session,
    device_id: str,
    name: str,
    value: Any,
    actor: str,
    *,
    expires_in: float = DEFAULT_COMMAND_SECONDS,
) -> Command:
    """Queue command ``name`` with ``value`` for a device (PENDING); the caller commits.

    The bridge publishes it on ``/{apikey}/{device_id}/cmd`` as ``{name: value}`` shortly
    after the commit. NotFound for an unknown device; Invalid for a command it does not take.
    """
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id!r}")
    if name not in device.commands:
        accepted = ", ".join(device.commands) or "none"
        raise Invalid(
            "name", f"device {device_id!r} takes no command {name!r} (it takes: {accepted})"
        )
    if len(repr(value)) > MAX_VALUE_BYTES:
        raise Invalid("value", f"longer than {MAX_VALUE_BYTES} characters")
    if expires_in <= 0:
        raise Invalid("expires_in", "must be positive")
    now = utcnow()
    command = Command(
        device_id=device_id,
        name=name,
        value={"value": value},
        status="PENDING",
        info="",
        actor=actor[:120],
        place_code=device.place_code,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=expires_in),
    )
    session.add(command)
    session.flush()
    return command


def get_command(session: Session, command_id: int) -> Command:
    command = session.get(Command, command_id)
    if command is None:
        raise NotFound(f"no command {command_id}")
    return command


def claim_pending(
    session: Session,
    *,
    protocol: str | None = None,
    device_id: str | None = None,
    now: dt.datetime | None = None,
) -> list[Command]:
    """PENDING commands still in time (of devices speaking ``protocol``, or of one device),
    oldest first, marked SENT: the caller delivers them."""
    now = now or utcnow()
    query = select(Command).where(Command.status == "PENDING", Command.expires_at > now)
    if protocol is not None:
        query = query.join(Device, Device.device_id == Command.device_id).where(
            Device.protocol == protocol
        )
    if device_id is not None:
        query = query.where(Command.device_id == device_id)
    found = list(session.scalars(query.order_by(Command.id).limit(500)))
    for command in found:
        command.status = "SENT"
        command.sent_at = now
    return found


def acknowledge(session: Session, device_id: str, name: str, ok: bool, info: str) -> Command | None:
    """The device's answer to its latest open command ``name``: OK or ERROR with ``info``.

    None when no such command is open (an answer after expiry, or to nothing we sent).
    """
    command = session.scalars(
        select(Command)
        .where(Command.device_id == device_id, Command.name == name, Command.status.in_(OPEN))
        .order_by(Command.id.desc())
        .limit(1)
    ).first()
    if command is None:
        return None
    command.status = "OK" if ok else "ERROR"
    command.info = info[:2000]
    command.done_at = utcnow()
    return command


def expire(session: Session, now: dt.datetime | None = None) -> list[Command]:
    """Open commands past their time become EXPIRED; returns them."""
    now = now or utcnow()
    found = list(
        session.scalars(
            select(Command).where(Command.status.in_(OPEN), Command.expires_at <= now).limit(500)
        )
    )
    for command in found:
        command.status = "EXPIRED"
        command.info = "the device did not answer in time"
        command.done_at = now
    return found


def cancel_for_device(session: Session, device_id: str) -> int:
    """A removed device's open commands can never be answered: they expire at once."""
    result = session.execute(
        update(Command)
        .where(Command.device_id == device_id, Command.status.in_(OPEN))
        .values(status="EXPIRED", info="the device was removed", done_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def list_commands(
    session: Session, device_id: str, limit: int = 100, offset: int = 0
) -> list[Command]:
    return list(
        session.scalars(
            select(Command)
            .where(Command.device_id == device_id)
            .order_by(Command.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
