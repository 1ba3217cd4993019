"""The feedback API of IOC staff and citizens: the queue, the workflow, imports, tracking, measures.

Open311 GeoReport v2 (``/open311/v2``) is the citizens' standard door; these routes are the
operators' own, plus the two citizen routes keyed by the token a submission returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.db import utcnow
from ioc.core.deps import (
    CurrentPrincipal,
    Limit,
    MaybePrincipal,
    Offset,
    SessionDep,
    SettingsDep,
    require,
)
from ioc.core.schemas import Page
from ioc.core.uploads import Upload, openapi_body, upload_reader
from ioc.feedback import import_files, importer, measures, queue, service
from ioc.feedback.models import FeedbackRequest, FeedbackService
from ioc.feedback.schemas import (
    Assignment,
    Contact,
    Created,
    CreatedRow,
    Escalation,
    FeedbackDetail,
    FeedbackItem,
    HotlineCall,
    ImportReportOut,
    MeasuresGroup,
    MeasuresOut,
    MeasuresReport,
    NoteCreate,
    NoteOut,
    RatingIn,
    RowErrorOut,
    SkippedRow,
    StatusChange,
    Tracked,
    TrackedNote,
)

router = APIRouter(prefix="/api/v1/feedback", tags=["feedback"])


def _service_names(session: Session) -> dict[str, str]:
    return {
        code: name
        for code, name in session.execute(select(FeedbackService.code, FeedbackService.name))
    }


def _item(req: FeedbackRequest, names: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    return {
        "id": req.id,
        "service_code": req.service_code,
        "service_name": names.get(req.service_code, req.service_code),
        "channel": req.channel,
        "external_id": req.external_id,
        "status": req.status,
        "status_notes": req.status_notes,
        "description": req.description,
        "lat": req.lat,
        "lon": req.lon,
        "address": req.address,
        "media_url": req.media_url,
        "attributes": req.attributes,
        "place_code": req.place_code,
        "agency_code": req.agency_code,
        "requested_at": req.requested_at,
        "updated_at": req.updated_at,
        "expected_at": req.expected_at,
        "settled_at": req.settled_at,
        "overdue": queue.is_overdue(req, now),
        "duplicate_of": req.duplicate_of,
        "likely_duplicate_of": req.likely_duplicate_of,
        "escalation": Escalation(
            level=req.escalation_level, to=req.escalated_to, at=req.escalated_at
        ),
        "rating": req.rating,
        "rating_comment": req.rating_comment,
        "contact": Contact(
            first_name=req.first_name, last_name=req.last_name, email=req.email, phone=req.phone
        ),
        "created_by": req.created_by,
    }


def item_out(session: Session, req: FeedbackRequest) -> FeedbackItem:
    return FeedbackItem(**_item(req, _service_names(session), utcnow()))


def detail_out(session: Session, req: FeedbackRequest) -> FeedbackDetail:
    timeline = [NoteOut.model_validate(n) for n in queue.timeline(session, req)]
    return FeedbackDetail(**_item(req, _service_names(session), utcnow()), timeline=timeline)


# Static paths first: "/{request_id}" would otherwise claim "/measures" and "/track".


@router.get("/measures")
def feedback_measures(
    session: SessionDep,
    principal: CurrentPrincipal,
    by: Annotated[
        Literal["period", "district", "commune", "agency", "service", "channel"], Query()
    ] = "period",
    period: Annotated[Literal["day", "week", "month", "quarter"], Query()] = "month",
    start: Annotated[dt.date | None, Query(alias="from", description="first day")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="last day, included")] = None,
) -> MeasuresReport:
    """Measures of the requests received from/to, in the caller's scope, grouped by ``by``."""
    now = utcnow()
    report = measures.compute(
        session, service.visible(principal), by=by, period=period, start=start, end=end, now=now
    )

    def out(m: measures.Measures) -> dict[str, Any]:
        return {
            "received": m.received,
            "settled": m.settled,
            "settled_pct": m.settled_pct,
            "on_time_pct": m.on_time_pct,
            "satisfaction_pct": m.satisfaction_pct,
            "rated": m.rated,
            "median_hours_to_settle": m.median_hours_to_settle,
            "median_working_days_to_settle": m.median_working_days_to_settle,
            "overdue_open": m.overdue_open,
        }

    return MeasuresReport(
        by=report.by,
        period=report.period,
        start=report.start,
        end=report.end,
        generated_at=now,
        total=MeasuresOut(**out(report.total)),
        groups=[MeasuresGroup(key=g.key, name=g.name, **out(g.measures)) for g in report.groups],
    )


@router.get("/track/{token}", tags=["feedback: citizens"])
def track(token: str, session: SessionDep) -> Tracked:
    """A citizen follows their request with its token: public fields and public notes only."""
    req = service.by_token(session, token)
    notes = queue.timeline(session, req, public_only=True)
    return Tracked(
        id=req.id,
        service_code=req.service_code,
        service_name=_service_names(session).get(req.service_code, req.service_code),
        status=req.status,
        status_notes=req.status_notes,
        description=req.description,
        address=req.address,
        lat=req.lat,
        lon=req.lon,
        place_code=req.place_code,
        agency_code=req.agency_code,
        requested_at=req.requested_at,
        updated_at=req.updated_at,
        expected_at=req.expected_at,
        settled_at=req.settled_at,
        duplicate_of=req.duplicate_of,
        rating=req.rating,
        rating_comment=req.rating_comment,
        notes=[
            TrackedNote(at=n.at, text=n.text, status_from=n.status_from, status_to=n.status_to)
            for n in notes
        ],
    )


@router.post("/track/{token}/rating", tags=["feedback: citizens"])
def rate(token: str, body: RatingIn, session: SessionDep, _: MaybePrincipal) -> Tracked:
    """The citizen rates the handling (1-5) once the request is resolved; may rate again."""
    service.rate(session, token, body.rating, body.comment)
    session.commit()
    return track(token, session)


@router.post("/hotline", status_code=201)
def log_call(
    body: HotlineCall,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, require("operator")],
) -> Created:
    """An operator logs a call (or an SMS, Zalo message, e-mail, petition) for the caller."""
    sub = service.Submission(**body.model_dump())
    rule = service.DuplicateRule(
        settings.feedback_duplicate_radius_m, settings.feedback_duplicate_days
    )
    done = service.submit(session, sub, rule)
    session.commit()
    return Created(
        request=item_out(session, done.request),
        token=done.token,
        likely_duplicate_of=done.request.likely_duplicate_of,
    )


read_upload = upload_reader(import_files.FORMATS)


@router.post("/import", openapi_extra=openapi_body(import_files.FORMATS))
def import_messages(
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, require("operator")],
    upload: Annotated[Upload, Depends(read_upload)],
    dry_run: Annotated[bool, Query(description="validate only; store nothing")] = False,
    channel: Annotated[
        Literal["hotline", "sms", "zalo", "email", "petition"] | None,
        Query(description="for rows without a channel column"),
    ] = None,
) -> ImportReportOut:
    """Bulk CSV/JSON of SMS, Zalo, e-mail messages and petitions; a report of every bad row."""
    rule = service.DuplicateRule(
        settings.feedback_duplicate_radius_m, settings.feedback_duplicate_days
    )
    report = importer.import_file(
        session, upload.data, upload.fmt, channel=channel, dry_run=dry_run, rule=rule
    )
    if not dry_run:
        session.commit()
    return ImportReportOut(
        received=report.received,
        stored=len(report.stored),
        skipped=len(report.skipped),
        rejected=report.rejected,
        dry_run=report.dry_run,
        errors=[RowErrorOut(row=e.row, field=e.field, message=e.message) for e in report.errors],
        created=[
            CreatedRow(row=s.row, id=s.id, token=s.token)
            for s in report.stored
            if s.id is not None and s.token is not None
        ],
        already_imported=[SkippedRow(row=s.row, id=s.id) for s in report.skipped],
    )


@router.get("")
def list_feedback(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[list[str] | None, Query(description="repeat for several")] = None,
    service_code: str | None = None,
    channel: str | None = None,
    agency_code: str | None = None,
    place: Annotated[str | None, Query(description="a place code: it and all below it")] = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the description")] = None,
    start: Annotated[dt.date | None, Query(alias="from", description="received from")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="received to, included")] = None,
    sort: Literal["newest", "oldest", "due"] = "newest",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[FeedbackItem]:
    """The queue: requests inside the caller's scope, with contact details and due dates."""
    f = queue.QueueFilter(
        status=status or (),
        service_code=service_code,
        channel=channel,
        agency_code=agency_code,
        place=place,
        overdue=overdue,
        escalated=escalated,
        q=q,
        start=start,
        end=end,
        sort=sort,
    )
    now = utcnow()
    rows, total = queue.search(session, principal, f, limit, offset, now)
    names = _service_names(session)
    items = [FeedbackItem(**_item(r, names, now)) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{request_id}")
def get_feedback(
    request_id: int, session: SessionDep, principal: CurrentPrincipal
) -> FeedbackDetail:
    """One request with its whole timeline, internal notes included."""
    return detail_out(session, service.get_request(session, request_id, principal))


@router.post("/{request_id}/status")
def change_status(
    request_id: int, body: StatusChange, session: SessionDep, principal: CurrentPrincipal
) -> FeedbackDetail:
    """Move along the workflow; rejecting needs a note, a duplicate names the original."""
    req = queue.change_status(
        session,
        principal,
        request_id,
        body.status,
        note=body.note,
        public=body.public,
        duplicate_of=body.duplicate_of,
    )
    session.commit()
    return detail_out(session, req)


@router.post("/{request_id}/assign")
def assign(
    request_id: int, body: Assignment, session: SessionDep, principal: CurrentPrincipal
) -> FeedbackDetail:
    """Give the request to another agency (operators, district admins)."""
    req = queue.reassign(session, principal, request_id, body.agency_code, body.note)
    session.commit()
    return detail_out(session, req)


@router.post("/{request_id}/notes", status_code=201)
def add_note(
    request_id: int, body: NoteCreate, session: SessionDep, principal: CurrentPrincipal
) -> NoteOut:
    """An internal note for colleagues, or a public one the citizen sees when tracking."""
    note = queue.add_note(session, principal, request_id, body.text, body.public)
    session.commit()
    return NoteOut.model_validate(note)
