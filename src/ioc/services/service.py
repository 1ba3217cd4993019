"""Dossiers from receipt to result: due dates in working days, the workflow, hand-offs, events.

Every change goes through these functions (the API, the CLI and the importer's single-row
path call them): the ORM flush audits it and an outbox event announces it, so the indicators
capability can tally dossiers from events without reading these tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.db import utcnow
from ioc.core.events import emit
from ioc.core.models import Agency, Place
from ioc.core.problems import Conflict, Forbidden, Invalid, NotFound
from ioc.core.workdays import WorkCalendar, default_calendar
from ioc.services import daily
from ioc.services.models import (
    CHANNELS,
    DELIVERIES,
    FINAL_STATUSES,
    Dossier,
    DossierStep,
    ServiceProcedure,
)

READERS = ("leader", "operator", "agency_staff", "district_admin")
HANDLERS = ("operator", "agency_staff", "district_admin")
# Which status may follow which; a supplement request pauses the legal clock until resumed.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"processing", "supplement_requested", "rejected", "withdrawn"}),
    "processing": frozenset({"supplement_requested", "completed", "rejected", "withdrawn"}),
    "supplement_requested": frozenset({"processing", "rejected", "withdrawn"}),
    "completed": frozenset(),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
}


def handling_agency(tier: str, department: str, commune: str, district: str | None) -> str:
    """Who handles a dossier: the department, or the district's / commune's People's Committee."""
    if tier == "commune":
        return f"UBND-{commune}"
    if tier == "district" and district:
        return f"UBND-{district}"
    return department


def on_time(completed_at: dt.datetime | None, due_at: dt.datetime, status: str) -> bool | None:
    """Completed or rejected by the (pause-extended) due date; None while open or withdrawn."""
    if completed_at is None or status not in ("completed", "rejected"):
        return None
    return completed_at <= due_at


def event_data(d: Dossier) -> dict[str, Any]:
    """What every dossier event carries, enough to tally indicators by place, agency, procedure."""
    return {
        "code": d.code,
        "procedure": d.procedure_code,
        "agency": d.agency_code,
        "place": d.place_code,
        "district": d.district_code,
        "channel": d.channel,
        "status": d.status,
        "received_at": d.received_at,
        "due_at": d.due_at,
        "completed_at": d.completed_at,
        "on_time": d.on_time,
    }


@dataclass(frozen=True, slots=True)
class NewDossier:
    code: str
    procedure_code: str
    place_code: str
    channel: str
    received_at: dt.datetime | None = None
    agency_code: str | None = None


def _commune(session: Session, code: str) -> Place:
    place = session.get(Place, code)
    if place is None or place.level != "commune":
        raise Invalid("place_code", f"no commune with code {code!r}")
    return place


def receive(session: Session, new: NewDossier, *, calendar: WorkCalendar | None = None) -> Dossier:
    """Register a dossier: its handler, its due date in working days, a first step, an event."""
    calendar = calendar or default_calendar()
    if new.channel not in CHANNELS:
        raise Invalid("channel", f"one of {', '.join(CHANNELS)}")
    procedure = session.get(ServiceProcedure, new.procedure_code)
    if procedure is None:
        raise Invalid("procedure_code", f"no procedure {new.procedure_code!r}")
    place = _commune(session, new.place_code)
    if session.scalar(select(Dossier.id).where(Dossier.code == new.code)) is not None:
        raise Conflict(f"dossier {new.code!r} already exists")
    agency = new.agency_code or handling_agency(
        procedure.tier, procedure.agency_code, place.code, place.parent_code
    )
    if session.get(Agency, agency) is None:
        raise Invalid("agency_code", f"no agency {agency!r}")
    received = new.received_at or utcnow()
    dossier = Dossier(
        code=new.code,
        procedure_code=procedure.code,
        agency_code=agency,
        current_agency=agency,
        place_code=place.code,
        district_code=place.parent_code,
        channel=new.channel,
        status="received",
        received_at=received,
        due_at=calendar.add_working_days(received, procedure.processing_days),
        paused_days=0,
    )
    session.add(dossier)
    session.flush()
    _step(session, dossier, "receive", received, to_agency=agency, status_to="received")
    emit(
        session,
        "dossier.created",
        event_data(dossier),
        subject=dossier.code,
        place_code=dossier.place_code,
    )
    return dossier


def _step(
    session: Session,
    d: Dossier,
    action: str,
    at: dt.datetime,
    *,
    from_agency: str | None = None,
    to_agency: str | None = None,
    status_from: str | None = None,
    status_to: str | None = None,
    note: str = "",
) -> None:
    session.add(
        DossierStep(
            dossier_id=d.id,
            at=at,
            action=action,
            from_agency=from_agency,
            to_agency=to_agency,
            status_from=status_from,
            status_to=status_to,
            note=note,
            actor=str(session.info.get("actor", "system")),
        )
    )


def transition(
    session: Session,
    d: Dossier,
    status: str,
    *,
    at: dt.datetime | None = None,
    note: str = "",
    delivery: str | None = None,
    rating: int | None = None,
    calendar: WorkCalendar | None = None,
) -> Dossier:
    """Move a dossier along the workflow; resuming after a supplement extends the due date."""
    calendar = calendar or default_calendar()
    at = at or utcnow()
    if status not in TRANSITIONS.get(d.status, frozenset()):
        raise Conflict(f"a {d.status} dossier cannot become {status}")
    if status == "rejected" and not note.strip():
        raise Invalid("note", "say why the dossier is rejected")
    if delivery is not None and delivery not in DELIVERIES:
        raise Invalid("delivery", f"one of {', '.join(DELIVERIES)}")
    if rating is not None and not 1 <= rating <= 5:
        raise Invalid("rating", "from 1 to 5")
    before = d.status
    if status == "supplement_requested":
        d.paused_at = at
    elif before == "supplement_requested" and d.paused_at is not None:
        # The citizen's waiting time does not count against the agency: push the due date out.
        waited = max(0, calendar.working_days_between(d.paused_at, at))
        d.due_at = calendar.add_working_days(d.due_at, waited)
        d.paused_days += waited
        d.paused_at = None
    if status in FINAL_STATUSES:
        d.completed_at = at
        d.on_time = on_time(at, d.due_at, status)
        if status == "completed":
            d.delivery = delivery or ("online" if d.channel == "online" else "desk")
    if rating is not None:
        d.rating = rating
    d.status = status
    if d.on_time is not None and status in FINAL_STATUSES:
        daily.apply(
            session,
            [event_data(d) | {"place_code": d.place_code, "district_code": d.district_code}],
        )
    _step(session, d, status, at, status_from=before, status_to=status, note=note)
    session.flush()
    data = event_data(d) | {"status_from": before, "paused_days": d.paused_days}
    emit(session, "dossier.status.changed", data, subject=d.code, place_code=d.place_code)
    return d


def hand_off(
    session: Session, d: Dossier, to_agency: str, *, note: str = "", at: dt.datetime | None = None
) -> Dossier:
    """Pass the dossier to another agency for its part (the responsible agency stays the same)."""
    if d.status in FINAL_STATUSES:
        raise Conflict(f"a {d.status} dossier is closed")
    if session.get(Agency, to_agency) is None:
        raise Invalid("to_agency", f"no agency {to_agency!r}")
    at = at or utcnow()
    before = d.current_agency
    d.current_agency = to_agency
    _step(session, d, "hand_off", at, from_agency=before, to_agency=to_agency, note=note)
    session.flush()
    emit(
        session,
        "dossier.handed_off",
        event_data(d) | {"from": before, "to": to_agency},
        subject=d.code,
        place_code=d.place_code,
    )
    return d


def visible(principal: Principal) -> ColumnElement[bool]:
    """The dossiers a member of staff may see: their scope over place and agency."""
    if not principal.has(*READERS):
        raise Forbidden("only staff and leaders see dossiers")
    return principal.scope.where(place=Dossier.place_code, agency=Dossier.agency_code)


def get(session: Session, principal: Principal, code: str) -> Dossier:
    d = session.scalar(select(Dossier).where(Dossier.code == code, visible(principal)))
    if d is None:
        raise NotFound(f"no dossier {code!r} in your scope")
    return d


def steps(session: Session, d: Dossier) -> list[DossierStep]:
    return list(
        session.scalars(
            select(DossierStep).where(DossierStep.dossier_id == d.id).order_by(DossierStep.id)
        )
    )
