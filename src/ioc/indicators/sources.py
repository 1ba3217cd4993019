"""What the computations share: their value types, the principal they read other capabilities
with, and how they read the instants and (commune, day) tallies events carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.events import Event
from ioc.core.models import Place
from ioc.core.scope import Scope
from ioc.indicators.periods import local_day

Ratio = tuple[float, float]  # numerator, denominator
Touch = tuple[str, dt.date]  # a place code and a local day an event changed
Touches = Callable[[Session, Event], list[Touch]]


def system_principal(session: Session, place: Place) -> Principal:
    """An all-roles principal limited to ``place``: other capabilities apply their own scope."""
    scope = Scope.build(session, place.code, [])
    return Principal("user", None, "system:indicators", frozenset({"admin"}), scope)


def moment(raw: object) -> dt.datetime | None:
    """An instant an event carries: as text once through the outbox, as is in process."""
    if isinstance(raw, dt.datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=dt.UTC)
    if not isinstance(raw, str):
        return None
    try:
        found = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


def dossier_touches(tally: str, instant: str) -> Touches:
    """The touches of dossier events: the commune and local day of ``instant`` in the event's
    data, or for an import the (commune, day)s its ``tally`` and ``replaced_<tally>`` name."""

    def touches(session: Session, event: Event) -> list[Touch]:
        if event.type == "dossier.imported":
            rows = [*event.data.get(tally, []), *event.data.get(f"replaced_{tally}", [])]
            return sorted({(str(t[0]), dt.date.fromisoformat(t[1])) for t in rows if t and t[0]})
        at = moment(event.data.get(instant))
        if at is None or not event.place_code:
            return []
        return [(event.place_code, local_day(at))]

    return touches
