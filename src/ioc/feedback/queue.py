"""The staff queue: who may see, filter and work which requests; no HTTP (the API calls it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.db import utcnow
from ioc.core.models import Place
from ioc.core.places import subtree_codes_stmt
from ioc.core.problems import Forbidden, Invalid, NotFound
from ioc.core.workdays import VIETNAM_TZ
from ioc.feedback import service
from ioc.feedback.models import (
    CHANNELS,
    OPEN_STATUSES,
    STATUSES,
    FeedbackNote,
    FeedbackRequest,
)

WORKERS = ("operator", "agency_staff", "district_admin")  # may change status and add notes
DISPATCHERS = ("operator", "district_admin")  # may also give a request to another agency
SORTS = ("newest", "oldest", "due")


@dataclass(frozen=True)
class QueueFilter:
    """What a member of staff narrows the queue to; ``start``/``end`` are local days, inclusive."""

    status: Sequence[str] = ()
    service_code: str | None = None
    channel: str | None = None
    agency_code: str | None = None
    place: str | None = None
    overdue: bool | None = None
    escalated: bool | None = None
    q: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    sort: str = "newest"


def day_bounds(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local days (Vietnam time) as a half-open UTC span, from ``start`` to ``end`` inclusive."""
    if start is not None and end is not None and end < start:
        raise Invalid("to", "must not be before from")

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=VIETNAM_TZ).astimezone(dt.UTC)

    return (
        midnight(start) if start else None,
        midnight(end + dt.timedelta(days=1)) if end else None,
    )


def overdue_clause(now: dt.datetime) -> ColumnElement[bool]:
    """Still open and past its due time."""
    return and_(
        FeedbackRequest.status.in_(sorted(OPEN_STATUSES)), FeedbackRequest.expected_at < now
    )


def is_overdue(req: FeedbackRequest, now: dt.datetime) -> bool:
    return req.is_open and req.expected_at is not None and req.expected_at < now


def _text_match(q: str) -> ColumnElement[bool]:
    # SQLite folds case of ASCII letters only, so "đèn" would miss "Đèn đường…": also try the
    # spelling with a capital first letter, the usual case at the start of a message.
    variants = {q, q.lower(), q[:1].upper() + q[1:].lower()}
    return or_(*(FeedbackRequest.description.icontains(v, autoescape=True) for v in variants))


def _where(session: Session, f: QueueFilter, now: dt.datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if unknown := [s for s in f.status if s not in STATUSES]:
        raise Invalid("status", f"unknown status {unknown[0]!r}; choose from {', '.join(STATUSES)}")
    if f.status:
        where.append(FeedbackRequest.status.in_(list(f.status)))
    if f.channel is not None:
        if f.channel not in CHANNELS:
            raise Invalid("channel", f"choose from {', '.join(CHANNELS)}")
        where.append(FeedbackRequest.channel == f.channel)
    if f.service_code:
        where.append(FeedbackRequest.service_code == f.service_code)
    if f.agency_code:
        where.append(FeedbackRequest.agency_code == f.agency_code)
    if f.place:
        if session.get(Place, f.place) is None:
            raise Invalid("place", f"unknown place code {f.place!r}")
        where.append(FeedbackRequest.place_code.in_(subtree_codes_stmt(f.place)))
    if f.overdue is True:
        where.append(overdue_clause(now))
    elif f.overdue is False:
        where.append(
            or_(
                FeedbackRequest.status.not_in(sorted(OPEN_STATUSES)),
                FeedbackRequest.expected_at.is_(None),
                FeedbackRequest.expected_at >= now,
            )
        )
    if f.escalated is not None:
        raised = FeedbackRequest.escalation_level > 0
        where.append(raised if f.escalated else not_(raised))
    if f.q and f.q.strip():
        where.append(_text_match(f.q.strip()))
    start, end = day_bounds(f.start, f.end)
    if start is not None:
        where.append(FeedbackRequest.requested_at >= start)
    if end is not None:
        where.append(FeedbackRequest.requested_at < end)
    return where


def search(
    session: Session,
    principal: Principal,
    f: QueueFilter,
    limit: int,
    offset: int,
    now: dt.datetime | None = None,
) -> tuple[list[FeedbackRequest], int]:
    """One page of the requests the caller may see, filtered and sorted, and the total count."""
    if f.sort not in SORTS:
        raise Invalid("sort", f"choose from {', '.join(SORTS)}")
    stmt = select(FeedbackRequest).where(
        service.visible(principal), *_where(session, f, now or utcnow())
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order: dict[str, tuple[Any, ...]] = {
        "newest": (FeedbackRequest.requested_at.desc(), FeedbackRequest.id.desc()),
        "oldest": (FeedbackRequest.requested_at.asc(), FeedbackRequest.id.asc()),
        "due": (FeedbackRequest.expected_at.asc().nulls_last(), FeedbackRequest.id.asc()),
    }
    rows = session.scalars(stmt.order_by(*order[f.sort]).limit(limit).offset(offset))
    return list(rows), total


def timeline(
    session: Session, req: FeedbackRequest, public_only: bool = False
) -> list[FeedbackNote]:
    """The request's notes, oldest first; citizens get only the public ones."""
    stmt = select(FeedbackNote).where(FeedbackNote.request_id == req.id)
    if public_only:
        stmt = stmt.where(FeedbackNote.public.is_(True))
    return list(session.scalars(stmt.order_by(FeedbackNote.at, FeedbackNote.id)))


def _workable(session: Session, principal: Principal, request_id: int) -> FeedbackRequest:
    """A request the caller may work: agency staff only their own agencies' requests."""
    principal.require(*WORKERS)
    req = service.get_request(session, request_id, principal)
    if not principal.has("operator", "district_admin"):
        own = principal.scope.agency_codes
        if own is None or req.agency_code not in own:
            raise Forbidden("agency staff work only on their own agency's requests")
    return req


def change_status(
    session: Session,
    principal: Principal,
    request_id: int,
    status: str,
    *,
    note: str = "",
    public: bool = True,
    duplicate_of: int | None = None,
) -> FeedbackRequest:
    """Move a request along the workflow, as the caller may."""
    req = _workable(session, principal, request_id)
    if duplicate_of is not None:
        try:
            service.get_request(session, duplicate_of, principal)
        except NotFound:
            raise Invalid("duplicate_of", f"no feedback request {duplicate_of}") from None
    return service.transition(
        session, req, status, note=note, public=public, duplicate_of=duplicate_of
    )


def reassign(
    session: Session, principal: Principal, request_id: int, agency_code: str, note: str = ""
) -> FeedbackRequest:
    """Give a request to another agency (operators and district admins)."""
    principal.require(*DISPATCHERS)
    req = service.get_request(session, request_id, principal)
    service.assign(session, req, agency_code, note)
    return req


def add_note(
    session: Session, principal: Principal, request_id: int, text: str, public: bool
) -> FeedbackNote:
    """A note on the timeline: internal for colleagues, or public for the citizen."""
    req = _workable(session, principal, request_id)
    return service.add_note(session, req, text, public)
