"""Receiving, routing and following feedback; no HTTP: Open311, the API and imports call it."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, bindparam, insert, select, text
from sqlalchemy.orm import Session, make_transient_to_detached

from ioc.core import audit, place_index, refdata
from ioc.core.agencies import agency_codes
from ioc.core.auth import Principal
from ioc.core.db import Base, utcnow
from ioc.core.events import emit, emit_now
from ioc.core.models import Agency, Place
from ioc.core.place_index import PlaceIndex, PlaceRef
from ioc.core.places import locate
from ioc.core.problems import Forbidden, Invalid, NotFound
from ioc.core.text import fold
from ioc.core.workdays import default_calendar
from ioc.feedback.models import (
    CHANNELS,
    EXTERNAL_ID_LENGTH,
    OPEN_STATUSES,
    OPEN_WHERE,
    FeedbackNote,
    FeedbackRequest,
    FeedbackService,
)
from ioc.feedback.rules import ServiceLike, active_rules

MAX_DESCRIPTION = 4000
OUTSIDE_TOLERANCE_M = 2000.0  # how far beyond every commune's box a point is still accepted
PROVINCE_AGENCY = "UBND-TINH"
TRIAGE_AGENCY = "VP-UBND"  # where feedback goes when neither place nor department is known
# Which statuses may follow which: the reception workflow.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"assigned", "in_progress", "rejected", "duplicate"}),
    "assigned": frozenset({"in_progress", "resolved", "rejected", "duplicate"}),
    "in_progress": frozenset({"resolved", "rejected", "duplicate"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
    "rejected": frozenset({"in_progress"}),
    "duplicate": frozenset(),
}
_r = FeedbackRequest.__table__.c
# The nearby open requests of a service in a window, built once. The statuses are the partial
# index's own WHERE text, not bound values, so that SQLite's planner (and PostgreSQL's generic
# plans) can match the partial index on open requests.
_NEARBY_OPEN = select(_r.id, _r.lat, _r.lon).where(
    _r.service_code == bindparam("service_code"),
    text(OPEN_WHERE),  # compiled once, not an IN list rendered at each execution
    _r.lat.between(bindparam("south"), bindparam("north")),
    _r.lon.between(bindparam("west"), bindparam("east")),
    _r.requested_at.between(bindparam("since"), bindparam("until")),
)
_requests = Base.metadata.tables[FeedbackRequest.__tablename__]
_notes = Base.metadata.tables[FeedbackNote.__tablename__]
_INSERT_REQUEST = insert(_requests).returning(*_requests.c)
_INSERT_NOTE = insert(_notes).returning(*_notes.c)
REFERENCE_DATA = (Place.__refdata__, Agency.__refdata__, FeedbackService.__refdata__)
STAFF = ("operator", "agency_staff", "district_admin", "leader")
# Column widths of the free-text fields, by the Open311 name a client sends: longer values (and
# NUL characters) are refused here, since PostgreSQL would fail the whole insert with a server
# error where SQLite silently keeps them.
MAX_LENGTHS = {
    "address_string": 400,
    "address_id": 100,
    "media_url": 1000,
    "first_name": 100,
    "last_name": 100,
    "email": 200,
    "phone": 40,
    "device_id": 200,
    "account_id": 200,
    "external_id": EXTERNAL_ID_LENGTH,
}


@dataclass
class Submission:
    """What a citizen (or an operator on their behalf) sends, from any channel."""

    service_code: str
    description: str = ""
    channel: str = "open311"
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    address_id: str | None = None
    media_url: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    requested_at: dt.datetime | None = None
    api_key_id: int | None = None
    external_id: str | None = None  # the message's id in the system it was imported from


@dataclass(frozen=True)
class Submitted:
    request: FeedbackRequest  # its likely_duplicate_of names a likely duplicate, if any
    token: str  # for tracking and rating; only its hash is stored


@dataclass(frozen=True)
class DuplicateRule:
    radius_m: float = 100.0
    days: int = 7


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_service(session: Session, code: str | None, field: str = "service_code") -> FeedbackService:
    if not code:
        raise Invalid(field, "is required")
    service = session.get(FeedbackService, code)
    if service is None or not service.active:
        raise Invalid(field, f"unknown service_code {code!r}")
    return service


def check_attributes(service: ServiceLike, given: dict[str, Any]) -> dict[str, Any]:
    """Keep the service's declared attributes, checking required ones and list values."""
    out: dict[str, Any] = {}
    known = {a["code"]: a for a in service.attributes}
    for code in given:
        if code not in known:
            raise Invalid(f"attribute[{code}]", f"service {service.code!r} has no such attribute")
    for code, spec in known.items():
        value = given.get(code)
        if value in (None, "", []):
            if spec.get("required"):
                raise Invalid(f"attribute[{code}]", "is required")
            continue
        if spec["datatype"] in ("singlevaluelist", "multivaluelist"):
            keys = {v["key"] for v in spec.get("values", [])}
            values = value if isinstance(value, list) else [value]
            if spec["datatype"] == "singlevaluelist" and len(values) != 1:
                raise Invalid(f"attribute[{code}]", "takes one value")
            bad = [v for v in values if v not in keys]
            if bad:
                raise Invalid(f"attribute[{code}]", f"{bad[0]!r} is not one of {sorted(keys)}")
            value = values if spec["datatype"] == "multivaluelist" else values[0]
        else:
            value = _scalar_attribute(code, spec["datatype"], value)
        out[code] = value
    return out


def _scalar_attribute(code: str, datatype: str, value: Any) -> Any:
    """A string, text, number or datetime attribute, checked and normalised."""
    field = f"attribute[{code}]"
    if isinstance(value, list):
        if len(value) != 1:
            raise Invalid(field, "takes one value")
        value = value[0]
    text = str(value).strip()
    if datatype == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise Invalid(field, f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise Invalid(field, f"{text!r} is not a number")
        return number
    if datatype == "datetime":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise Invalid(field, f"{text!r} is not an ISO 8601 date-time") from None
        return moment.isoformat()
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(field, f"at most {MAX_DESCRIPTION} characters")
    return text


def _province(session: Session) -> Place | None:
    return session.scalar(select(Place).where(Place.level == "province").limit(1))


def place_for_point(
    session: Session, lat: float, lon: float, index: PlaceIndex | None = None
) -> PlaceRef:
    """The commune at a point; a point outside the province is refused.

    A province's own box is far too loose (Hòa Bình's holds central Hà Nội); communes' boxes
    follow its shape, so a point must lie inside, or within OUTSIDE_TOLERANCE_M of, one of
    them (the margin covers gaps between boxes until boundaries are imported). With no
    commune boxes loaded (the 2025 tree) there is nothing to judge by, and every point passes.
    """
    if not (-90 <= lat <= 90):
        raise Invalid("lat", "must be between -90 and 90")
    if not (-180 <= lon <= 180):
        raise Invalid("long", "must be between -180 and 180")
    index = index or place_index.current(session)
    if not index.near_a_box("commune", lat, lon, OUTSIDE_TOLERANCE_M):
        province = _province(session)
        where = province.name if province else "the province"
        raise Invalid("lat", f"the point ({lat}, {lon}) is outside {where}")
    place: PlaceRef | None
    if index.has_boundaries:
        place = locate(session, lat, lon, "commune")
    else:
        place = index.locate(lat, lon, "commune")
    if place is None:
        raise Invalid("lat", f"no commune of the province at ({lat}, {lon})")
    return place


def _words(text: str) -> str:
    return " ".join(re.split(r"\W+", fold(text))).strip()


def place_for_address(session: Session, address: str) -> Place | None:
    """The commune an address names ("xã Tú Lý, huyện Đà Bắc"), when it names one clearly."""
    text = f" {_words(address)} "
    places = session.scalars(select(Place)).all()
    by_code = {p.code: p for p in places}
    best: list[tuple[int, Place]] = []
    for commune in (p for p in places if p.level == "commune"):
        name = _words(commune.short_name)
        if f" {name} " not in text:
            continue
        score = 2 if f" {_words(commune.kind)} {name} " in text else 1  # "xã Tú Lý"
        parent = by_code.get(commune.parent_code or "")
        if parent is not None and parent.level == "district":
            if f" {_words(parent.short_name)} " in text:
                score += 1
            if _words(parent.short_name) == name and score < 3:
                score -= 1  # "Đà Bắc" names the district more likely than its township
        best.append((score, commune))
    if not best:
        return None
    top = max(score for score, _ in best)
    if top <= 0:
        return None
    winners = [c for score, c in best if score == top]
    return winners[0] if len(winners) == 1 else None


def committee(place: PlaceRef) -> str:
    return f"UBND-{place.code}"


def route(
    session: Session,
    service: ServiceLike,
    place: PlaceRef | None,
    index: PlaceIndex | None = None,
    known: refdata.Versions | None = None,
) -> str:
    """Who handles it: the commune or district committee where it happened, or the department."""
    if service.route_to in ("district", "commune") and place is not None:
        target: PlaceRef = place
        if service.route_to == "district" and place.level == "commune" and place.parent_code:
            parent = (index or place_index.current(session, known)).get(place.parent_code)
            if parent is not None and parent.level == "district":
                target = parent
        code = committee(target)
        if code in agency_codes(session, known):
            return code
    if service.agency_code:
        return service.agency_code
    return TRIAGE_AGENCY if TRIAGE_AGENCY in agency_codes(session, known) else PROVINCE_AGENCY


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def likely_duplicate(
    session: Session,
    service_code: str,
    lat: float,
    lon: float,
    at: dt.datetime,
    rule: DuplicateRule,
) -> int | None:
    """The id of the nearest open report of the same service within the rule's radius and days.

    Only id and position are read, of the open requests of the service in a box round the
    point (the partial index ``ix_feedback_requests_open_service_position``) and the window.
    """
    dlat = rule.radius_m / 111_320
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    window = {
        "service_code": service_code,
        "south": lat - dlat,
        "north": lat + dlat,
        "west": lon - dlon,
        "east": lon + dlon,
        "since": at - dt.timedelta(days=rule.days),
        "until": at,  # a back-dated import duplicates earlier reports, not later ones
    }
    candidates = session.execute(_NEARBY_OPEN, window).all()
    near = [
        (distance_m(lat, lon, c_lat, c_lon), c_id)
        for c_id, c_lat, c_lon in candidates
        if c_lat is not None and c_lon is not None
    ]
    near = [n for n in near if n[0] <= rule.radius_m]
    return min(near)[1] if near else None


def _note(
    session: Session,
    req: FeedbackRequest,
    kind: str,
    text: str = "",
    *,
    public: bool = False,
    status_from: str | None = None,
    status_to: str | None = None,
    agency_from: str | None = None,
    agency_to: str | None = None,
    at: dt.datetime | None = None,
) -> FeedbackNote:
    note = FeedbackNote(
        request_id=req.id,  # None for a request not yet flushed: the relationship fills it in
        request=req,
        at=at or utcnow(),
        actor=str(session.info.get("actor", "system")),
        kind=kind,
        public=public,
        text=text,
        status_from=status_from,
        status_to=status_to,
        agency_from=agency_from,
        agency_to=agency_to,
    )
    session.add(note)
    if public and text:
        req.status_notes = text
    return note


def _event(
    session: Session, type_: str, req: FeedbackRequest, *, at_once: bool = False, **extra: Any
) -> None:
    data = {
        "id": req.id,
        "service_code": req.service_code,
        "status": req.status,
        "agency_code": req.agency_code,
        "channel": req.channel,
        **extra,
    }
    write = emit_now if at_once else emit
    write(session, type_, data, subject=str(req.id), place_code=req.place_code)


def submit(
    session: Session,
    sub: Submission,
    rule: DuplicateRule | None = None,
) -> Submitted:
    """Validate, locate, route and store one report; nothing is written if anything is wrong."""
    # One query tells whether the copies of places, agencies and the catalogue are current.
    known = refdata.versions(session, *REFERENCE_DATA)
    service = active_rules(session, sub.service_code, known)
    if sub.channel not in CHANNELS:
        raise Invalid("channel", f"choose from {', '.join(CHANNELS)}")
    description = (sub.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid("description", f"at most {MAX_DESCRIPTION} characters")
    if sub.media_url:
        url = urlsplit(sub.media_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise Invalid("media_url", "must be an http(s) URL with a host")
    _check_text(sub)
    attributes = check_attributes(service, sub.attributes)
    if (sub.lat is None) != (sub.lon is None):
        raise Invalid("long" if sub.lon is None else "lat", "give both lat and long")
    address = (sub.address or "").strip() or None
    if sub.lat is None and not address and not sub.address_id:
        raise Invalid("lat", "give a location: lat and long, or address_string")
    place: PlaceRef | None = None
    index = place_index.current(session, known)
    if sub.lat is not None and sub.lon is not None:
        place = place_for_point(session, sub.lat, sub.lon, index)
    elif address:
        place = place_for_address(session, address)
    now = sub.requested_at or utcnow()
    token = secrets.token_urlsafe(16)
    actor = str(session.info.get("actor", "system"))
    values: dict[str, Any] = {
        "service_code": service.code,
        "channel": sub.channel,
        "description": description,
        "lat": sub.lat,
        "lon": sub.lon,
        "address": address,
        "address_id": sub.address_id,
        "media_url": sub.media_url,
        "attributes": attributes,
        "place_code": place.code if place else None,
        "agency_code": route(session, service, place, index, known),
        "status": "received",
        "requested_at": now,
        "updated_at": now,
        "expected_at": default_calendar().add_working_days(now, service.sla_days),
        "token_hash": hash_token(token),
        "first_name": sub.first_name,
        "last_name": sub.last_name,
        "email": sub.email,
        "phone": sub.phone,
        "device_id": sub.device_id,
        "account_id": sub.account_id,
        "api_key_id": sub.api_key_id,
        "external_id": sub.external_id,
        "created_by": actor,
        "likely_duplicate_of": (
            likely_duplicate(session, service.code, sub.lat, sub.lon, now, rule or DuplicateRule())
            if sub.lat is not None and sub.lon is not None
            else None
        ),
    }
    # Core inserts, not the unit of work: the ORM's bookkeeping cost more than the rest of a
    # report. The rows come back whole (RETURNING) for the audit and for the caller.
    stored = session.execute(_INSERT_REQUEST, values).mappings().one()
    first = {
        "request_id": stored["id"],
        "at": now,
        "actor": actor,
        "kind": "status",
        "public": False,
        "text": "",
        "status_to": "received",
        "agency_to": stored["agency_code"],
    }
    note = session.execute(_INSERT_NOTE, first).mappings().one()
    audit.record_inserts(session, [(FeedbackRequest, stored), (FeedbackNote, note)])
    req = FeedbackRequest(**stored)
    make_transient_to_detached(req)  # as if loaded: no pending changes, no second INSERT
    session.add(req)  # persistent and clean, so the caller may go on to change it
    _event(
        session,
        "feedback.created",
        req,
        at_once=True,
        likely_duplicate_of=req.likely_duplicate_of,
        requested_at=now.isoformat(),
    )
    return Submitted(req, token)


def _no_nul(field: str, value: str | None) -> None:
    if value and "\x00" in value:
        raise Invalid(field, "must not contain NUL characters")


def _check_text(sub: Submission) -> None:
    given = {
        "description": sub.description,
        "address_string": sub.address,
        "address_id": sub.address_id,
        "media_url": sub.media_url,
        "first_name": sub.first_name,
        "last_name": sub.last_name,
        "email": sub.email,
        "phone": sub.phone,
        "device_id": sub.device_id,
        "account_id": sub.account_id,
        "external_id": sub.external_id,
    }
    given.update({f"attribute[{k}]": v for k, v in sub.attributes.items() if isinstance(v, str)})
    for name, value in given.items():
        if value is None:
            continue
        _no_nul(name, value)
        if name in MAX_LENGTHS and len(value) > MAX_LENGTHS[name]:
            raise Invalid(name, f"at most {MAX_LENGTHS[name]} characters")


def visible(principal: Principal) -> ColumnElement[bool]:
    """The requests a member of staff may see: their scope over place and agency."""
    if not principal.has(*STAFF):
        raise Forbidden("only IOC and agency staff see the feedback queue")
    return principal.scope.where(
        place=FeedbackRequest.place_code, agency=FeedbackRequest.agency_code
    )


def get_request(session: Session, request_id: int, principal: Principal) -> FeedbackRequest:
    req = session.scalar(
        select(FeedbackRequest).where(FeedbackRequest.id == request_id, visible(principal))
    )
    if req is None:
        raise NotFound(f"no feedback request {request_id}")
    return req


def by_token(session: Session, token: str) -> FeedbackRequest:
    req = session.scalar(
        select(FeedbackRequest).where(FeedbackRequest.token_hash == hash_token(token))
    )
    if req is None:
        raise NotFound("no feedback request has this token")
    return req


def transition(
    session: Session,
    req: FeedbackRequest,
    status: str,
    *,
    note: str = "",
    public: bool = True,
    duplicate_of: int | None = None,
    at: dt.datetime | None = None,
) -> FeedbackRequest:
    """Move a request along the workflow; settled requests get their settled time."""
    _no_nul("note", note)
    allowed = TRANSITIONS.get(req.status, frozenset())
    if status not in allowed:
        raise Invalid(
            "status",
            f"a {req.status} request cannot become {status}; "
            f"it can become {', '.join(sorted(allowed)) or 'nothing'}",
        )
    if status == "duplicate":
        if duplicate_of is None or duplicate_of == req.id:
            raise Invalid("duplicate_of", "name the other request this one duplicates")
        if session.get(FeedbackRequest, duplicate_of) is None:
            raise Invalid("duplicate_of", f"no feedback request {duplicate_of}")
        req.duplicate_of = duplicate_of
    if status == "rejected" and not note.strip():
        raise Invalid("note", "say why the request is rejected")
    now = at or utcnow()
    before = req.status
    req.status = status
    req.updated_at = now
    if status in ("resolved", "rejected", "duplicate"):
        req.settled_at = now
    elif status == "in_progress" and before in ("resolved", "rejected"):
        req.settled_at = None  # reopened
    _note(
        session,
        req,
        "status",
        note.strip(),
        public=public,
        status_from=before,
        status_to=status,
        at=now,
    )
    session.flush()
    _event(session, f"feedback.{status}", req, status_from=before)
    return req


def assign(session: Session, req: FeedbackRequest, agency_code: str, note: str = "") -> None:
    """Give the request to another agency (an operator's reassignment)."""
    _no_nul("note", note)
    agency = session.get(Agency, agency_code)
    if agency is None:
        raise Invalid("agency_code", f"unknown agency code {agency_code!r}")
    if not req.is_open:
        raise Invalid("agency_code", f"a {req.status} request cannot be reassigned")
    before_agency, before_status = req.agency_code, req.status
    req.agency_code = agency_code
    if req.status == "received":
        req.status = "assigned"
    req.updated_at = utcnow()
    _note(
        session,
        req,
        "assign",
        note.strip(),
        status_from=before_status,
        status_to=req.status,
        agency_from=before_agency,
        agency_to=agency_code,
    )
    session.flush()
    _event(session, "feedback.assigned", req, agency_from=before_agency)


def add_note(session: Session, req: FeedbackRequest, text: str, public: bool) -> FeedbackNote:
    if not text.strip():
        raise Invalid("text", "must not be empty")
    _no_nul("text", text)
    note = _note(session, req, "note", text.strip(), public=public)
    req.updated_at = utcnow()
    session.flush()
    _event(session, "feedback.noted", req, public=public)
    return note


def rate(session: Session, token: str, rating: int, comment: str | None = None) -> FeedbackRequest:
    """The citizen's satisfaction (1-5) once the request is resolved; may be changed later."""
    req = by_token(session, token)
    if req.status not in ("resolved", "closed"):
        raise Invalid("rating", "a request can be rated once it is resolved")
    if not 1 <= rating <= 5:
        raise Invalid("rating", "from 1 (very unhappy) to 5 (very happy)")
    _no_nul("comment", comment)
    req.rating, req.rating_comment, req.rated_at = rating, (comment or "").strip() or None, utcnow()
    session.flush()
    _event(session, "feedback.rated", req, rating=rating)
    return req


def escalate_overdue(session: Session, now: dt.datetime | None = None) -> int:
    """Raise overdue open requests to the level above; once per further SLA period overdue."""
    now = now or utcnow()
    calendar = default_calendar()
    rows = session.scalars(
        select(FeedbackRequest).where(
            FeedbackRequest.status.in_(OPEN_STATUSES), FeedbackRequest.expected_at < now
        )
    ).all()
    services = {s.code: s for s in session.scalars(select(FeedbackService))}
    raised = 0
    for req in rows:
        sla = services[req.service_code].sla_days
        last = req.escalated_at or req.expected_at
        if req.escalation_level and calendar.add_working_days(last, sla) > now:  # type: ignore[arg-type]
            continue
        current = req.escalated_to or req.agency_code
        agency = session.get(Agency, current) if current else None
        above = agency.parent_code if agency and agency.parent_code else PROVINCE_AGENCY
        if current == PROVINCE_AGENCY:
            continue  # nowhere higher to go, even for a request the province handles itself
        req.escalation_level += 1
        req.escalated_to, req.escalated_at = above, now
        _note(
            session,
            req,
            "escalate",
            f"quá hạn xử lý, chuyển {above} đôn đốc",
            agency_from=current,
            agency_to=above,
            at=now,
        )
        session.flush()
        _event(session, "feedback.escalated", req, escalated_to=above, level=req.escalation_level)
        raised += 1
    return raised
