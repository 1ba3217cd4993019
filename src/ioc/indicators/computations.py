"""Declared computations of computed indicators, keyed by code, each over one place and period.

A computation reads ioc's own data only through other capabilities' public functions or the
``events`` outbox, never their tables, and returns a numerator and denominator so a province
value is the exact ratio of its districts' sums. Each also names the events that change it and
the local days an event touches, so recomputation follows events cell by cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.bus import matches
from ioc.core.events import Event
from ioc.core.models import Place
from ioc.core.problems import NotFound
from ioc.indicators import computations_more as more
from ioc.indicators.models import OfficialDocument
from ioc.indicators.periods import local_day
from ioc.indicators.sources import Ratio, Touch, dossier_touches, system_principal

Memo = dict[Any, Any]  # what the computations of one round share (one query for two ratios)
ComputeMany = Callable[[Session, list[Place], dt.date, dt.date, Memo], dict[str, Ratio]]


@dataclass(frozen=True)
class Computation:
    """How to compute one cell, and which events can change it.

    ``compute_many``, where given, answers for many places of one period at once (one grouped
    query rolled up in Python), which a round of events touching every district needs.
    """

    compute: Callable[[Session, Place, dt.date, dt.date], Ratio]
    events: tuple[str, ...]
    touches: Callable[[Session, Event], list[Touch]]
    compute_many: ComputeMany | None = None


def _subtree(place: Place) -> Any:
    return or_(Place.path == place.path, Place.path.like(place.path + "/%"))


# --------------------------------------------------------------------------- feedback


def _feedback_totals(session: Session, place: Place, first: dt.date, last: dt.date) -> Any:
    from ioc.feedback import measures, service

    clause = service.visible(system_principal(session, place))
    report = measures.compute(session, clause, by="channel", start=first, end=last, medians=False)
    return report.total


def feedback_settled(session: Session, place: Place, first: dt.date, last: dt.date) -> Ratio:
    total = _feedback_totals(session, place, first, last)
    return float(total.settled), float(total.received)


def feedback_satisfaction(session: Session, place: Place, first: dt.date, last: dt.date) -> Ratio:
    total = _feedback_totals(session, place, first, last)
    return float(total.satisfied), float(total.rated)


def _feedback_by_place(
    session: Session, places: list[Place], first: dt.date, last: dt.date, memo: Memo
) -> dict[str, Any]:
    """The feedback counts of each place's subtree, from one grouped query per province."""
    from ioc.feedback import measures, service

    out: dict[str, Any] = {}
    roots = sorted({p.path.split("/")[0] for p in places})
    for root_code in roots:
        key = ("feedback", root_code, first, last)
        if key not in memo:
            root = session.get(Place, root_code)
            if root is None:
                memo[key] = {}
                continue
            clause = service.visible(system_principal(session, root))
            by_code = measures.counts_by_place(session, clause, first, last)
            known = [c for c in by_code if c]
            rows = session.execute(select(Place.code, Place.path).where(Place.code.in_(known)))
            paths = {code: path for code, path in rows}
            rolled: dict[str, Any] = {}
            for code, counts in by_code.items():
                for ancestor in paths.get(code or "", "").split("/"):
                    if ancestor:
                        rolled.setdefault(ancestor, measures.Measures()).add(counts)
            memo[key] = rolled
        out.update(memo[key])
    return out


def _feedback_many(numerator: str, denominator: str) -> ComputeMany:
    """A ``compute_many`` of two of the feedback counts of each place's subtree."""

    def many(
        session: Session, places: list[Place], first: dt.date, last: dt.date, memo: Memo
    ) -> dict[str, Ratio]:
        counts = _feedback_by_place(session, places, first, last, memo)
        out: dict[str, Ratio] = {}
        for place in places:
            found = counts.get(place.code)
            out[place.code] = (
                (float(getattr(found, numerator)), float(getattr(found, denominator)))
                if found
                else (0.0, 0.0)
            )
        return out

    return many


feedback_settled_many = _feedback_many("settled", "received")
feedback_satisfaction_many = _feedback_many("satisfied", "rated")


def _feedback_touches(session: Session, event: Event) -> list[Touch]:
    """The event's day, and the day the request was received (measures group by it)."""
    from ioc.feedback import service

    if not event.place_code:
        return []
    days = [local_day(event.time)]
    request_id = event.data.get("id")
    received = event.data.get("requested_at")  # feedback.created says it: no query needed
    if isinstance(received, str):
        days.append(local_day(dt.datetime.fromisoformat(received)))
    elif isinstance(request_id, int):
        try:
            req = service.get_request(session, request_id, _SYSTEM_ADMIN)
        except NotFound:
            req = None
        if req is not None:
            days.append(local_day(req.requested_at))
    return [(event.place_code, day) for day in days]


_SYSTEM_ADMIN = Principal("user", None, "system:indicators", frozenset({"admin"}))

# --------------------------------------------------------------------------- dossiers


def dossier_on_time(session: Session, place: Place, first: dt.date, last: dt.date) -> Ratio:
    """Of the dossiers resolved in the period inside ``place``, those resolved on time."""
    from ioc.services import measures, service

    scope = service.visible(system_principal(session, place))
    rows = measures.on_time(session, first, last, by="province", where=scope)
    return float(sum(r.on_time for r in rows)), float(sum(r.resolved for r in rows))


_dossier_touches = dossier_touches("resolved", "completed_at")


# --------------------------------------------------------------------------- documents


def documents_signed(session: Session, place: Place, first: dt.date, last: dt.date) -> Ratio:
    """Of the outgoing documents issued in the period by agencies in ``place``, those e-signed."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((OfficialDocument.signed.is_(True), 1), else_=0)), 0),
        ).where(
            and_(OfficialDocument.issued_on >= first, OfficialDocument.issued_on <= last),
            OfficialDocument.place_code.in_(select(Place.code).where(_subtree(place))),
        )
    ).one()
    return float(row[1]), float(row[0])


def _document_touches(session: Session, event: Event) -> list[Touch]:
    if not event.place_code:
        return []
    return [(event.place_code, dt.date.fromisoformat(d)) for d in event.data.get("days", [])]


COMPUTATIONS: dict[str, Computation] = {
    "feedback_settled": Computation(
        feedback_settled, ("feedback.>",), _feedback_touches, feedback_settled_many
    ),
    "feedback_satisfaction": Computation(
        feedback_satisfaction, ("feedback.>",), _feedback_touches, feedback_satisfaction_many
    ),
    "dossier_on_time": Computation(
        dossier_on_time, ("dossier.status.changed", "dossier.imported"), _dossier_touches
    ),
    "documents_signed": Computation(
        documents_signed, ("indicators.documents.>",), _document_touches
    ),
    "streetlight_availability": Computation(
        more.streetlight_availability, more.STREETLIGHT_EVENTS, more.streetlight_touches
    ),
    "services_level4": Computation(
        more.services_level4, more.CATALOGUE_EVENTS, more.catalogue_touches
    ),
    "dossier_online": Computation(
        more.dossier_online, ("dossier.created", "dossier.imported"), more.dossier_received_touches
    ),
}


def wanted_by(event_type: str) -> list[str]:
    """The computations an event of this type may change."""
    return [
        name
        for name, computation in COMPUTATIONS.items()
        if any(matches(pattern, event_type) for pattern in computation.events)
    ]
