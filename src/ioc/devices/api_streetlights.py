"""Streetlight operations, faults and energy: ``/api/v1/streetlights``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from ioc.core.db import utcnow
from ioc.core.deps import Limit, Offset, SessionDep, SettingsDep
from ioc.core.problems import Invalid
from ioc.devices import energy, entities, faults, streetlights
from ioc.devices.deps import BrokerDep, Operator, Staff
from ioc.devices.periods import Period
from ioc.devices.schemas import (
    CommandIn,
    EnergyOut,
    EnergyPeriod,
    FaultOut,
    OperationOut,
    ScanOut,
    Target,
)

router = APIRouter(prefix="/api/v1/streetlights", tags=["devices: streetlights"])
MAX_ENERGY_DAYS = 400


@router.post("/commands", status_code=201)
def send_commands(
    body: CommandIn, session: SessionDep, broker: BrokerDep, principal: Operator
) -> OperationOut:
    """Switch, dim or schedule one light, a group, a cabinet or every light of a commune.

    Each light in the caller's scope with a registered device gets its own MQTT command;
    ``GET /commands/{id}`` follows their acknowledgements.
    """
    [(kind, target)] = body.target.chosen()
    operation = streetlights.operate(
        session,
        broker,
        principal.scope,
        principal.actor,
        action=body.action,
        target_kind=kind,
        target=target,
        value=body.value,
    )
    session.commit()
    return OperationOut(**streetlights.operation_out(session, operation))


@router.get("/commands")
def list_operations(
    session: SessionDep, principal: Staff, limit: Limit = 50, offset: Offset = 0
) -> list[OperationOut]:
    found = streetlights.list_operations(session, principal.scope, limit, offset)
    return [OperationOut(**streetlights.operation_out(session, o)) for o in found]


@router.get("/commands/{operation_id}")
def get_operation(operation_id: int, session: SessionDep, principal: Staff) -> OperationOut:
    """An operation and each light's command status (the device's acknowledgement)."""
    operation = streetlights.get_operation(session, operation_id, principal.scope)
    return OperationOut(**streetlights.operation_out(session, operation))


@router.get("/faults")
def list_faults(
    session: SessionDep,
    principal: Staff,
    open_only: Annotated[bool, Query(alias="open")] = True,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[FaultOut]:
    """Faults found by the scans inside the caller's scope (open ones unless ``open=false``)."""
    found = faults.list_faults(
        session, principal.scope, open_only=open_only, limit=limit, offset=offset
    )
    return [FaultOut.model_validate(f) for f in found]


@router.post("/faults/scan")
def scan_faults(
    session: SessionDep, broker: BrokerDep, settings: SettingsDep, _: Operator
) -> ScanOut:
    """Scan every light now (the server also does it every IOC_STREETLIGHT_SCAN_MINUTES)."""
    result = faults.scan(session, broker, faults.Rules.of(settings))
    session.commit()
    return ScanOut(
        lights=result.lights,
        found=[FaultOut.model_validate(f) for f in result.found],
        cleared=[FaultOut.model_validate(f) for f in result.cleared],
        still_open=result.still_open,
    )


@router.get("/energy")
def energy_use(
    session: SessionDep,
    broker: BrokerDep,
    principal: Staff,
    period: Annotated[Period, Query()] = "day",
    start: Annotated[
        dt.datetime | None, Query(alias="from", description="default: 7 days ago")
    ] = None,
    end: Annotated[dt.datetime | None, Query(alias="to", description="default: now")] = None,
    light: str | None = None,
    group: str | None = None,
    cabinet: str | None = None,
    commune: Annotated[str | None, Query(description="a commune or district code")] = None,
) -> EnergyOut:
    """kWh the lights used per period, from their meters or power readings over time."""
    now = utcnow()
    end = end or now
    start = start or end - dt.timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("from", "give a time zone (e.g. 2026-11-26T00:00:00+07:00)")
    if not start < end or end - start > dt.timedelta(days=MAX_ENERGY_DAYS):
        raise Invalid("from", f"from must be before to, at most {MAX_ENERGY_DAYS} days apart")
    inventory = streetlights.inventory(session, broker)
    chosen = [(k, v) for k, v in (("light", light), ("group", group), ("cabinet", cabinet),
                                  ("commune", commune)) if v is not None]  # fmt: skip
    if len(chosen) > 1:
        raise Invalid("light", "name at most one of light, group, cabinet, commune")
    if chosen:
        target = Target(**dict(chosen))
        [(kind, value)] = target.chosen()
        lights = streetlights.select_lights(session, inventory, kind, value, principal.scope)
    else:
        where = entities.Places(session)
        lights = [
            li for li in inventory.lights.values() if where.in_scope(principal.scope, li.place_code)
        ]
    report = energy.energy(session, [li.id for li in lights], start, end, period, now=now)
    return EnergyOut(
        period=period,
        start=start,
        end=end,
        lights=len(lights),
        metered_lights=report.metered,
        total_kwh=round(report.total_kwh, 6),
        periods=[EnergyPeriod(period=p, kwh=round(k, 6)) for p, k in report.by_period.items()],
        by_light={k: round(v, 6) for k, v in sorted(report.by_light.items())},
    )
