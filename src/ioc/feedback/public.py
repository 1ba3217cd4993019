"""Feedback facts other capabilities may ask for, without composing queries on its tables.

The web screen narrows the measures to the unit a user clicked; the scope rule stays
``service.visible`` and the place rule the queue's (the unit and everything below it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_
from sqlalchemy.orm import Session

from ioc.core.auth import Principal
from ioc.core.db import utcnow
from ioc.core.places import subtree_codes_stmt
from ioc.feedback import measures, service
from ioc.feedback.models import FeedbackRequest


def measures_in(
    session: Session,
    principal: Principal,
    place: str | None,
    *,
    by: str = "period",
    period: str = "day",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> measures.Report:
    """The caller's feedback measures (no medians) for ``place`` and below, or all in scope."""
    where = service.visible(principal)
    if place:
        where = and_(where, FeedbackRequest.place_code.in_(subtree_codes_stmt(place)))
    return measures.compute(
        session, where, by=by, period=period, start=start, end=end, now=utcnow(), medians=False
    )
