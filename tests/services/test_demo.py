"""The demo year of dossiers: the seeds' volume and on-time share, spread over the province."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ioc.core.db import Database
from ioc.core.models import OutboxEvent, Place
from ioc.services.demo import build_year
from ioc.services.models import Dossier, DossierStep

NOW = dt.datetime(2025, 12, 31, 10, tzinfo=dt.UTC)


def test_a_small_year_has_the_seeds_shape(session: Session) -> None:
    # 60 days at the seeds' yearly rate: 258,000 x 60/365 = 42,411 dossiers.
    n = build_year(session, now=NOW, days=60, per_year=258_000)
    assert n == 42_411
    assert session.scalar(select(func.count()).select_from(Dossier)) == n
    resolved, on_time = session.execute(
        select(func.count(Dossier.on_time), func.sum(case((Dossier.on_time.is_(True), 1), else_=0)))
    ).one()
    assert 0.955 < on_time / resolved < 0.985  # Đồng Xoài: over 97 % on time
    communes = session.scalar(
        select(func.count()).select_from(Place).where(Place.level == "commune")
    )
    used = session.scalar(select(func.count(func.distinct(Dossier.place_code))))
    assert used == communes
    assert session.scalar(select(func.count(func.distinct(Dossier.procedure_code)))) > 200
    channels = dict(
        session.execute(select(Dossier.channel, func.count()).group_by(Dossier.channel)).all()
    )
    assert set(channels) == {"online", "one_stop_desk", "post"}
    first, last = session.execute(
        select(func.min(Dossier.received_at), func.max(Dossier.received_at))
    ).one()
    assert NOW - dt.timedelta(days=61) < first and last < NOW
    open_ = session.scalar(select(func.count()).where(Dossier.completed_at.is_(None)))
    assert 0 < open_ < n * 0.2  # the recent ones are still being handled
    assert session.scalar(select(func.count()).select_from(DossierStep)) > 0
    rows = sum(
        e["rows"]
        for e in session.scalars(
            select(OutboxEvent.data).where(OutboxEvent.type == "dossier.imported")
        )
    )
    assert rows == n  # the events carry every dossier to the indicators


def test_the_demo_database_holds_dossiers(demo_db: Database) -> None:
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) > 5_000  # 14 test days
