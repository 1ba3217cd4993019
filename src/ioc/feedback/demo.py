"""The demo step of the feedback capability: its catalogue and months of simulated history.

The history (``demo_history``) is computed in Python and written with two bulk Core inserts,
then audited once: ~27,000 requests and their timelines load in a few seconds.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ioc.core.audit import record
from ioc.core.db import Base, utcnow
from ioc.core.models import Agency, Place
from ioc.demo.builder import DemoContext
from ioc.feedback.catalogue import seed_catalogue
from ioc.feedback.demo_history import History, HistoryMaker
from ioc.feedback.models import FeedbackNote, FeedbackRequest, FeedbackService
from ioc.feedback.service import route
from ioc.feedback.simulated import World, load_communes

SEED = 2025


def history_maker(
    session: Session, province_code: str, *, now: dt.datetime, rng: random.Random
) -> HistoryMaker:
    """A maker for the province in ``session``, routing exactly as the reception service does."""
    services = list(session.scalars(select(FeedbackService).where(FeedbackService.active)))
    communes = load_communes(session, province_code)
    world = World(communes, [s.code for s in services])
    places = {p.code: p for p in session.scalars(select(Place).where(Place.level == "commune"))}
    routes = {
        (s.code, c.code): route(session, s, places[c.code]) for s in services for c in communes
    }
    agencies = {a.code: (a.name, a.parent_code) for a in session.scalars(select(Agency))}
    first_id = (
        session.scalar(select(FeedbackRequest.id).order_by(FeedbackRequest.id.desc())) or 0
    ) + 1
    return HistoryMaker(
        world,
        {s.code: s.sla_days for s in services},
        routes,
        agencies,
        now=now,
        rng=rng,
        first_id=first_id,
    )


def load_history(session: Session, history: History, province_code: str | None = None) -> None:
    """Insert the rows in bulk and audit the load once."""
    if not history.requests:
        return
    # Core inserts on the tables: one executemany each, none of the ORM's per-row bookkeeping.
    session.execute(insert(Base.metadata.tables[FeedbackRequest.__tablename__]), history.requests)
    session.execute(insert(Base.metadata.tables[FeedbackNote.__tablename__]), history.notes)
    if session.get_bind().dialect.name == "postgresql":
        # Ids were given explicitly: move the sequence past them for the next submit().
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('feedback_requests', 'id'),"
                " (SELECT max(id) FROM feedback_requests))"
            )
        )
    first, last = history.requests[0]["id"], history.requests[-1]["id"]
    record(
        session,
        "load",
        "feedback_requests",
        f"{first}-{last}",
        after={
            "requests": len(history.requests),
            "notes": len(history.notes),
            "days": history.days,
            "source": "demo simulation",
        },
        place_code=province_code,
    )


def feedback_step(ctx: DemoContext) -> None:
    """Seed the catalogue, then ``ctx.feedback_days`` days of simulated feedback."""
    with ctx.database.session("demo") as session:
        seed_catalogue(session)
        if ctx.feedback_days <= 0:
            return
        maker = history_maker(session, ctx.province_code, now=utcnow(), rng=random.Random(SEED))
        history = maker.make(ctx.feedback_days)
        load_history(session, history, ctx.province_code)
        ctx.notes.append(f"feedback: {history.summary()}")
