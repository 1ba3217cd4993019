"""``/api/v1/alerts``: the alerts in the caller's scope; operators acknowledge and resolve them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ioc.alerts import service
from ioc.alerts.engine import enabled
from ioc.alerts.rules import RULES
from ioc.alerts.schemas import AlertAction, AlertCounts, AlertOut, RuleOut
from ioc.core.auth import Principal
from ioc.core.deps import CurrentPrincipal, Limit, Offset, SessionDep, SettingsDep, require
from ioc.core.schemas import Page

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require(*service.READERS)]
Actor = Annotated[Principal, require(*service.ACTORS)]
Many = Annotated[list[str] | None, Query(description="repeat for several")]
PlaceQuery = Annotated[str | None, Query(description="a place code: it and all below it")]


@router.get("")
def list_alerts(
    session: SessionDep,
    principal: Reader,
    status: Many = None,
    severity: Many = None,
    rule: Many = None,
    place: PlaceQuery = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AlertOut]:
    """Newest first; ``status=open&status=acknowledged`` for the active ones."""
    f = service.Filter(tuple(status or ()), tuple(severity or ()), tuple(rule or ()), place, source)
    rows, total = service.list_alerts(session, principal, f, limit, offset)
    return Page[AlertOut](
        items=[AlertOut.model_validate(a) for a in rows], total=total, limit=limit, offset=offset
    )


@router.get("/counts")
def alert_counts(session: SessionDep, principal: Reader, place: PlaceQuery = None) -> AlertCounts:
    """Active alerts by severity in scope (the leaders' brief)."""
    return AlertCounts(**service.counts(session, principal, place))


@router.get("/rules")
def list_rules(settings: SettingsDep, _: CurrentPrincipal) -> list[RuleOut]:
    """The rules, what raises and what clears each, and whether this server runs it."""
    try:
        on = enabled(settings)
    except ValueError:  # a misspelt IOC_ALERTS_RULES: the engine logs it and runs nothing
        on = frozenset()
    return [
        RuleOut(
            code=r.code,
            name=r.name,
            name_en=r.name_en,
            follows=list(r.follows),
            raises=r.raises,
            clears=r.clears,
            enabled=r.code in on,
        )
        for r in RULES.values()
    ]


@router.get("/{alert_id}")
def get_alert(alert_id: int, session: SessionDep, principal: Reader) -> AlertOut:
    return AlertOut.model_validate(service.get_alert(session, alert_id, principal))


@router.post("/{alert_id}/acknowledge")
def acknowledge(
    alert_id: int, session: SessionDep, principal: Actor, body: AlertAction | None = None
) -> AlertOut:
    """Someone is on it (operator, district admin; admin)."""
    alert = service.get_alert(session, alert_id, principal)
    service.acknowledge(session, alert, principal, body.note if body else None)
    session.commit()
    return AlertOut.model_validate(alert)


@router.post("/{alert_id}/resolve")
def resolve(alert_id: int, body: AlertAction, session: SessionDep, principal: Actor) -> AlertOut:
    """Closed, with a note saying what was done (operator, district admin; admin)."""
    alert = service.get_alert(session, alert_id, principal)
    service.resolve(session, alert, principal, body.note)
    session.commit()
    return AlertOut.model_validate(alert)
