"""Values: computed ones stored per cell, reported ones entered, submitted and reviewed.

Reported values follow draft → submitted → approved or returned (and returned → submitted
again); only approved ones count. Each change goes through the ORM, so ioc.core.audit logs it.
Computed values are written with plain statements: they are derived, not decisions to audit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.db import Base, utcnow
from ioc.core.models import Place
from ioc.core.problems import Conflict, Forbidden, Invalid, NotFound
from ioc.indicators import periods
from ioc.indicators.models import Indicator, IndicatorValue

ENTERERS = ("agency_staff", "operator", "district_admin")
REVIEWERS = ("leader",)
NEXT = {
    "submit": ({"draft", "returned"}, "submitted"),
    "approve": ({"submitted"}, "approved"),
    "return": ({"submitted"}, "returned"),
}


def get_indicator(session: Session, code: str) -> Indicator:
    found = session.get(Indicator, code)
    if found is None:
        raise NotFound(f"no indicator {code!r}")
    return found


def check_entry(
    session: Session, principal: Principal, indicator: Indicator, place_code: str, period: str
) -> Place:
    """Refuse an entry the caller may not make, or one that does not fit the indicator."""
    principal.require(*ENTERERS)
    if indicator.kind != "reported":
        raise Invalid("indicator", f"{indicator.code} is computed by ioc, not reported")
    if not principal.scope.contains_agency(indicator.agency_code):
        raise Forbidden(f"{indicator.code} is reported by {indicator.agency_code}, not your agency")
    place = session.get(Place, place_code)
    if place is None:
        raise Invalid("place_code", f"unknown place {place_code!r}")
    if not principal.scope.contains_place(session, place_code):
        raise Forbidden(f"{place_code} is outside your scope")
    levels = ("province", "district", "commune")
    if levels.index(place.level) > levels.index(indicator.level):
        raise Invalid("place_code", f"{indicator.code} is kept down to {indicator.level} level")
    if periods.kind_of(period) != indicator.period:
        raise Invalid("period", f"{indicator.code} is kept by {indicator.period}")
    return place


def check_number(value: float) -> float:
    if not math.isfinite(value):
        raise Invalid("value", "must be a finite number")
    return value


def enter(
    session: Session,
    principal: Principal,
    code: str,
    place_code: str,
    period: str,
    value: float,
    note: str = "",
) -> tuple[IndicatorValue, str]:
    """Save a draft (or re-draft a returned value); the same value again changes nothing."""
    indicator = get_indicator(session, code)
    check_entry(session, principal, indicator, place_code, period)
    value = check_number(value)
    row = session.scalar(
        select(IndicatorValue).where(
            IndicatorValue.indicator_code == code,
            IndicatorValue.place_code == place_code,
            IndicatorValue.period == period,
        )
    )
    if row is None:
        row = IndicatorValue(
            indicator_code=code, place_code=place_code, period=period, source="reported",
            status="draft", value=value, note=note, agency_code=indicator.agency_code,
            entered_by=principal.actor,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row, "created"
    if row.value == value and row.note == note:
        return row, "unchanged"
    if row.status in ("submitted", "approved"):
        raise Conflict(f"the value of {code} for {place_code} {period} is {row.status}")
    row.value, row.note, row.status, row.entered_by = value, note, "draft", principal.actor
    session.flush()
    return row, "updated"


def get_value(session: Session, value_id: int) -> IndicatorValue:
    row = session.get(IndicatorValue, value_id)
    if row is None or row.source != "reported":
        raise NotFound(f"no reported value #{value_id}")
    return row


def transition(
    session: Session, principal: Principal, value_id: int, action: str, note: str = ""
) -> IndicatorValue:
    """Submit (the entering agency), approve or return (a leader); others are refused."""
    row = get_value(session, value_id)
    indicator = get_indicator(session, row.indicator_code)
    if action == "submit":
        check_entry(session, principal, indicator, row.place_code, row.period)
    else:
        principal.require(*REVIEWERS)
        if not principal.scope.contains_place(session, row.place_code):
            raise Forbidden(f"{row.place_code} is outside your scope")
    allowed, target = NEXT[action]
    if row.status not in allowed:
        raise Conflict(f"cannot {action} a value that is {row.status}")
    row.status = target
    if action != "submit":
        row.reviewed_by, row.review_note = principal.actor, note
    session.flush()
    return row


@dataclass(frozen=True)
class Cell:
    code: str
    place_code: str
    period: str


def store_computed(
    session: Session, cell: Cell, numerator: float, denominator: float
) -> float | None:
    """Write one computed cell (insert or update), no audit row: it is derived data."""
    value = round(100 * numerator / denominator, 2) if denominator else None
    table = Base.metadata.tables[IndicatorValue.__tablename__]
    fields = {
        "value": value, "numerator": numerator, "denominator": denominator,
        "updated_at": utcnow(),
    }  # fmt: skip
    found = session.scalar(
        select(IndicatorValue.id).where(
            IndicatorValue.indicator_code == cell.code,
            IndicatorValue.place_code == cell.place_code,
            IndicatorValue.period == cell.period,
        )
    )
    if found is None:
        session.execute(
            insert(table).values(
                indicator_code=cell.code, place_code=cell.place_code, period=cell.period,
                source="computed", status="computed", note="", review_note="", **fields,
            )
        )  # fmt: skip
    else:
        session.execute(update(table).where(table.c.id == found).values(**fields))
    return value
