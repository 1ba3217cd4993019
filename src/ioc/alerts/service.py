"""Alerts raised, bumped and resolved from rule decisions; acknowledged and resolved by staff.

No HTTP here: the engine (bus events), the API, the CLI and the demo call these functions.
Every change goes through the ORM (so the audit log has it) and announces itself on the bus
through the outbox: ``alert.raised``, ``alert.escalated`` (severity went up),
``alert.acknowledged``, ``alert.resolved``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from ioc.alerts.models import ACTIVE_STATUSES, SEVERITIES, STATUSES, Alert
from ioc.alerts.rules import RANK, RULES, Clear, Decision, Trigger
from ioc.core import places
from ioc.core.auth import Principal
from ioc.core.db import utcnow
from ioc.core.events import emit
from ioc.core.models import Place
from ioc.core.places import subtree_codes_stmt
from ioc.core.problems import Forbidden, Invalid, NotFound

READERS = ("operator", "leader", "district_admin", "agency_staff")
ACTORS = ("operator", "district_admin")
MAX_NOTE = 2000
# keyValues of an NGSI-LD entity by id (None when it is gone); the engine reads the broker.
Lookup = Callable[[str], dict[str, Any] | None]


def _no_lookup(_: str) -> dict[str, Any] | None:
    return None


def point_of(values: dict[str, Any] | None) -> tuple[float, float] | None:
    """(lat, lon) of a keyValues entity's Point location."""
    location = (values or {}).get("location")
    if not isinstance(location, dict) or location.get("type") != "Point":
        return None
    try:
        lon, lat = location["coordinates"][:2]
        return float(lat), float(lon)
    except (KeyError, TypeError, ValueError):
        return None


def commune_at(session: Session, at: tuple[float, float]) -> str | None:
    """The commune (or ward) holding a point, if any loaded place does."""
    found = places.locate(session, at[0], at[1], "commune")
    return found.code if found is not None else None


def active(session: Session, rule: str, source: str) -> Alert | None:
    return session.scalar(
        select(Alert).where(
            Alert.rule == rule, Alert.source == source, Alert.status.in_(ACTIVE_STATUSES)
        )
    )


def _event(session: Session, type_: str, alert: Alert, **extra: Any) -> None:
    data = {
        "id": alert.id,
        "rule": alert.rule,
        "severity": alert.severity,
        "status": alert.status,
        "title": alert.title,
        "title_en": alert.title_en,
        "source": alert.source,
        "place_code": alert.place_code,
        "agency_code": alert.agency_code,
        "lat": alert.lat,
        "lon": alert.lon,
        "count": alert.count,
        **extra,
    }
    emit(session, type_, data, subject=str(alert.id), place_code=alert.place_code)


def _faults(alert: Alert) -> list[str]:
    return list(alert.details.get("faults", []))


def trigger(session: Session, t: Trigger, lookup: Lookup = _no_lookup) -> Alert:
    """Raise a new alert, or bump the active one of (rule, source): count, last seen, severity."""
    alert = active(session, t.rule, t.source)
    if alert is not None:
        alert.count += 1
        alert.last_seen = max(alert.last_seen, t.at)
        details = {**alert.details, **t.details}
        if t.fault is not None:
            details["faults"] = sorted({*_faults(alert), t.fault})
        alert.details = details
        if RANK[t.severity] > RANK[alert.severity]:
            before = alert.severity
            alert.severity, alert.title, alert.title_en = t.severity, t.title, t.title_en
            session.flush()
            _event(session, "alert.escalated", alert, severity_from=before)
        session.flush()
        return alert
    lat_lon: tuple[float, float] | None = None
    if t.source_type == "entity":
        lat_lon = point_of(lookup(t.source))
    place_code = t.place_code
    if place_code is None and lat_lon is not None:
        place_code = commune_at(session, lat_lon)
    if place_code is not None and session.get(Place, place_code) is None:
        place_code = None
    if lat_lon is None and place_code is not None:
        place = session.get(Place, place_code)
        if place is not None and place.lat is not None and place.lon is not None:
            lat_lon = (place.lat, place.lon)
    details = dict(t.details)
    if t.fault is not None:
        details["faults"] = [t.fault]
    alert = Alert(
        rule=t.rule,
        severity=t.severity,
        title=t.title[:300],
        title_en=t.title_en[:300],
        source=t.source[:200],
        source_type=t.source_type,
        place_code=place_code,
        agency_code=t.agency_code,
        lat=lat_lon[0] if lat_lon else None,
        lon=lat_lon[1] if lat_lon else None,
        details=details,
        status="open",
        count=1,
        raised_at=t.at,
        last_seen=t.at,
    )
    session.add(alert)
    session.flush()
    _event(session, "alert.raised", alert)
    return alert


def _close(session: Session, alert: Alert, note: str, at: dt.datetime | None = None) -> None:
    alert.status = "resolved"
    alert.resolved_at = at or utcnow()
    alert.resolved_by = str(session.info.get("actor", "system"))
    alert.resolved_note = note
    session.flush()
    _event(session, "alert.resolved", alert, note=note)


def clear(session: Session, c: Clear) -> Alert | None:
    """Resolve the active alert of (rule, source) on its own; a light keeps it while faults last."""
    alert = active(session, c.rule, c.source)
    if alert is None:
        return None
    if c.fault is not None:
        left = [f for f in _faults(alert) if f != c.fault]
        if left:
            alert.details = {**alert.details, "faults": left}
            session.flush()
            return alert
    _close(session, alert, f"tự động: {c.note}", c.at)
    return alert


def apply(session: Session, decisions: list[Decision], lookup: Lookup = _no_lookup) -> int:
    """Carry out rule decisions in order; returns how many changed an alert."""
    changed = 0
    for d in decisions:
        if RULES.get(d.rule) is None:
            continue
        if isinstance(d, Trigger):
            trigger(session, d, lookup)
            changed += 1
        elif clear(session, d) is not None:
            changed += 1
    return changed


def expire_stale(session: Session, now: dt.datetime | None = None) -> int:
    """Resolve alerts of rules that go stale (congestion) not triggered again for long enough."""
    now = now or utcnow()
    done = 0
    for rule in RULES.values():
        if rule.stale_minutes is None:
            continue
        before = now - dt.timedelta(minutes=rule.stale_minutes)
        for alert in session.scalars(
            select(Alert).where(
                Alert.rule == rule.code,
                Alert.status.in_(ACTIVE_STATUSES),
                Alert.last_seen < before,
            )
        ):
            _close(session, alert, f"tự động: không lặp lại sau {rule.stale_minutes:.0f} phút", now)
            done += 1
    return done


# ------------------------------------------------------------------ staff


def _note(note: str | None, required: bool) -> str | None:
    text = (note or "").strip()
    if "\x00" in text:
        raise Invalid("note", "must not contain NUL characters")
    if len(text) > MAX_NOTE:
        raise Invalid("note", f"at most {MAX_NOTE} characters")
    if required and not text:
        raise Invalid("note", "say what was done about the alert")
    return text or None


def visible(principal: Principal) -> ColumnElement[bool]:
    """The alerts a member of staff may see: their place (and agency) scope."""
    if not principal.has(*READERS):
        raise Forbidden(f"alerts are for the roles: {', '.join(READERS)}")
    return principal.scope.where(place=Alert.place_code, agency=Alert.agency_code)


def get_alert(session: Session, alert_id: int, principal: Principal) -> Alert:
    alert = session.scalar(select(Alert).where(Alert.id == alert_id, visible(principal)))
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def acknowledge(
    session: Session,
    alert: Alert,
    principal: Principal,
    note: str | None,
    at: dt.datetime | None = None,
) -> Alert:
    """An operator has seen the alert and is on it."""
    principal.require(*ACTORS)
    text = _note(note, required=False)
    if alert.status != "open":
        raise Invalid("status", f"a {alert.status} alert cannot be acknowledged")
    alert.status = "acknowledged"
    alert.acknowledged_at = at or utcnow()
    alert.acknowledged_by = principal.actor
    alert.acknowledged_note = text
    session.flush()
    _event(session, "alert.acknowledged", alert, note=text)
    return alert


def resolve(
    session: Session,
    alert: Alert,
    principal: Principal,
    note: str | None,
    at: dt.datetime | None = None,
) -> Alert:
    """An operator closes the alert, saying what was done."""
    principal.require(*ACTORS)
    text = _note(note, required=True)
    if alert.status == "resolved":
        raise Invalid("status", "the alert is already resolved")
    _close(session, alert, text or "", at)
    return alert


@dataclass(frozen=True, slots=True)
class Filter:
    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    place: str | None = None
    source: str | None = None

    def check(self) -> None:
        for name, given, allowed in (
            ("status", self.status, STATUSES),
            ("severity", self.severity, SEVERITIES),
            ("rule", self.rule, tuple(RULES)),
        ):
            bad = [v for v in given if v not in allowed]
            if bad:
                raise Invalid(name, f"{bad[0]!r} is not one of {', '.join(allowed)}")


def _where(session: Session, principal: Principal, f: Filter) -> ColumnElement[bool]:
    f.check()
    clauses = [visible(principal)]
    if f.status:
        clauses.append(Alert.status.in_(f.status))
    if f.severity:
        clauses.append(Alert.severity.in_(f.severity))
    if f.rule:
        clauses.append(Alert.rule.in_(f.rule))
    if f.source:
        clauses.append(Alert.source == f.source)
    if f.place:
        places.get_place(session, f.place)  # 404 for an unknown code
        clauses.append(Alert.place_code.in_(subtree_codes_stmt(f.place)))
    return and_(*clauses)


def list_alerts(
    session: Session, principal: Principal, f: Filter, limit: int = 100, offset: int = 0
) -> tuple[list[Alert], int]:
    """Newest first, active before resolved; and how many match."""
    where = _where(session, principal, f)
    total = session.scalar(select(func.count()).select_from(Alert).where(where)) or 0
    rows = session.scalars(
        select(Alert)
        .where(where)
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def counts(session: Session, principal: Principal, place: str | None = None) -> dict[str, int]:
    """Active alerts by severity in scope (and ``place``): the brief's tile."""
    where = _where(session, principal, Filter(status=ACTIVE_STATUSES, place=place))
    found = dict(
        session.execute(
            select(Alert.severity, func.count()).where(where).group_by(Alert.severity)
        ).all()
    )
    return {s: int(found.get(s, 0)) for s in SEVERITIES}
