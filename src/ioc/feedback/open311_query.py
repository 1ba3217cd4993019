"""What Open311 calls ask for: the filters of ``GET requests``, the form of ``POST requests``,
and the queries that answer them (Core selects of only the columns the spec shows)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from ioc.core.models import Agency, AuditEntry
from ioc.core.problems import Invalid, NotFound
from ioc.core.workdays import VIETNAM_TZ
from ioc.feedback.models import OPEN_STATUSES, FeedbackRequest, FeedbackService
from ioc.feedback.service import Submission

MAX_RESULTS = 1000  # the spec's default cap on GET requests
WINDOW = dt.timedelta(days=90)  # the spec's default and widest start_date..end_date window
STATUSES = ("open", "closed")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# "2025-05-01T08:00:00+07:00" sent unencoded in a query string arrives as "... 07:00".
_LOST_PLUS = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


@dataclass(frozen=True)
class RequestFilter:
    """The parsed filters of ``GET requests``; ``ids`` set means the others are ignored."""

    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_datetime(value: str, field: str) -> dt.datetime:
    """An ISO 8601 date-time in UTC; one without an offset is taken as Vietnam's time."""
    text = _LOST_PLUS.sub(r"\1+\2", value.strip())
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            field, f"{value!r} is not an ISO 8601 date-time such as 2025-05-01T08:00:00+07:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM_TZ)
    return parsed.astimezone(dt.UTC)


def window(
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The spec's window: the last 90 days by default, and never wider than 90 days."""
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise Invalid("end_date", "must not be before start_date")
    if end - start > WINDOW:
        raise Invalid("end_date", "start_date to end_date may span at most 90 days")
    return start, end


def parse_filter(
    session: Session,
    now: dt.datetime,
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> RequestFilter:
    """Check the query parameters of ``GET requests``; each mistake names its parameter."""
    if service_request_id is not None and service_request_id.strip():
        ids = _split(service_request_id)
        if not all(i.isdigit() for i in ids):
            raise Invalid("service_request_id", "give request ids separated by commas")
        if len(ids) > MAX_RESULTS:
            raise Invalid("service_request_id", f"at most {MAX_RESULTS} ids at once")
        return RequestFilter(ids=tuple(dict.fromkeys(int(i) for i in ids)))
    codes = _split(service_code)
    if codes:
        known = set(session.scalars(select(FeedbackService.code)))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise Invalid("service_code", f"unknown service_code {unknown[0]!r}")
    statuses = {s.lower() for s in _split(status)}
    if statuses - set(STATUSES):
        raise Invalid("status", "choose open, closed, or both separated by a comma")
    start = parse_datetime(start_date, "start_date") if start_date else None
    end = parse_datetime(end_date, "end_date") if end_date else None
    start, end = window(start, end, now)
    return RequestFilter((), tuple(dict.fromkeys(codes)), frozenset(statuses), start, end)


def _name(english: Any, vietnamese: Any, lang: str) -> ColumnElement[Any]:
    return func.coalesce(func.nullif(english, ""), vietnamese) if lang == "en" else vietnamese


def requests_select(lang: str) -> Select[Any]:
    """The columns a request shows, with its service's and agency's names joined once."""
    r = FeedbackRequest
    return (
        select(
            r.id,
            r.status,
            r.status_notes,
            _name(FeedbackService.name_en, FeedbackService.name, lang).label("service_name"),
            r.service_code,
            r.description,
            _name(Agency.name_en, Agency.name, lang).label("agency_responsible"),
            r.requested_at,
            r.updated_at,
            r.expected_at,
            r.likely_duplicate_of,
            r.address,
            r.address_id,
            r.lat,
            r.lon,
            r.media_url,
        )
        .join(FeedbackService, FeedbackService.code == r.service_code)
        .outerjoin(Agency, Agency.code == r.agency_code)
    )


def find_requests(session: Session, flt: RequestFilter, lang: str) -> Sequence[Row[Any]]:
    """At most 1,000 requests matching ``flt``, newest first."""
    r = FeedbackRequest
    stmt = requests_select(lang)
    if flt.ids:
        stmt = stmt.where(r.id.in_(flt.ids))
    else:
        if flt.service_codes:
            stmt = stmt.where(r.service_code.in_(flt.service_codes))
        if flt.statuses == {"open"}:
            stmt = stmt.where(r.status.in_(OPEN_STATUSES))
        elif flt.statuses == {"closed"}:
            stmt = stmt.where(r.status.not_in(OPEN_STATUSES))
        if flt.start is not None:
            stmt = stmt.where(r.requested_at >= flt.start)
        if flt.end is not None:
            stmt = stmt.where(r.requested_at <= flt.end)
    stmt = stmt.order_by(r.requested_at.desc(), r.id.desc()).limit(MAX_RESULTS)
    return session.execute(stmt).all()


def find_request(session: Session, request_id: str, lang: str) -> Row[Any]:
    """One request by its id as the URL gives it."""
    row = None
    if request_id.isdigit():
        stmt = requests_select(lang).where(FeedbackRequest.id == int(request_id))
        row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"service_request_id: no request {request_id!r}")
    return row


def active_services(session: Session) -> Sequence[FeedbackService]:
    stmt = select(FeedbackService).where(FeedbackService.active.is_(True))
    return session.scalars(stmt.order_by(FeedbackService.position, FeedbackService.code)).all()


def active_service(session: Session, code: str) -> FeedbackService:
    service = session.get(FeedbackService, code)
    if service is None or not service.active:
        raise NotFound(f"service_code: no service {code!r}")
    return service


def catalogue_changed(session: Session) -> dt.datetime | None:
    """When the catalogue last changed (from the audit log): discovery's changeset."""
    stmt = select(func.max(AuditEntry.at)).where(AuditEntry.entity == FeedbackService.__tablename__)
    changed: dt.datetime | None = session.scalar(stmt)
    return changed


# --- POST requests ---------------------------------------------------------------------------


@dataclass
class PostedForm:
    """The text fields of a ``POST requests`` form, and its ``attribute[code]`` answers."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str | list[str]] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        value = self.fields.get(name, "").strip()
        return value or None


def read_form(items: Iterable[tuple[str, str | UploadFile]]) -> PostedForm:
    """Plain values out of a form; ``attribute[code][]`` (or a repeated code) makes a list."""
    posted = PostedForm()
    answers: dict[str, list[str]] = {}
    listed: set[str] = set()
    for key, value in items:
        if not isinstance(value, str):
            raise Invalid(key, "must be a text value, not a file (send media_url instead)")
        match = _ATTRIBUTE.match(key)
        if match is None:
            posted.fields[key] = value
            continue
        code = match[1]
        answers.setdefault(code, []).append(value)
        if match[2]:
            listed.add(code)
    for code, values in answers.items():
        many = code in listed or len(values) > 1
        posted.attributes[code] = values if many else values[0]
    return posted


def _coordinate(posted: PostedForm, name: str) -> float | None:
    raw = posted.text(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Invalid(name, f"{raw!r} is not a decimal number of degrees (WGS 84)") from None
    if not math.isfinite(value):
        raise Invalid(name, "must be a finite number")
    return value


def submission(posted: PostedForm, api_key_id: int | None) -> Submission:
    """What ``ioc.feedback.service.submit`` needs from an Open311 form (``channel`` open311)."""
    return Submission(
        service_code=posted.text("service_code") or "",
        description=posted.fields.get("description", ""),
        channel="open311",
        lat=_coordinate(posted, "lat"),
        lon=_coordinate(posted, "long"),
        address=posted.text("address_string"),
        address_id=posted.text("address_id"),
        media_url=posted.text("media_url"),
        attributes=dict(posted.attributes),
        first_name=posted.text("first_name"),
        last_name=posted.text("last_name"),
        email=posted.text("email"),
        phone=posted.text("phone"),
        device_id=posted.text("device_id"),
        account_id=posted.text("account_id"),
        api_key_id=api_key_id,
    )
