"""Computed indicators follow events: one event recomputes its place's cells for its period only."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from ioc.core.db import Database
from ioc.core.events import Event
from ioc.core.models import Place
from ioc.feedback import service as feedback
from ioc.feedback.models import FeedbackRequest
from ioc.indicators import periods, recompute
from ioc.indicators.models import IndicatorValue
from ioc.services import service as dossiers
from ioc.services.catalogue import seed_catalogue
from ioc.services.models import ServiceProcedure
from ioc.services.service import NewDossier
from tests.indicators.conftest import districts, province


def _cells(
    database: Database, code: str
) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    with database.session() as session:
        rows = session.execute(
            select(
                IndicatorValue.place_code,
                IndicatorValue.period,
                IndicatorValue.value,
                IndicatorValue.denominator,
            ).where(IndicatorValue.indicator_code == code)
        )
        return {(p, k): (v, d) for p, k, v, d in rows}


def _wait(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the indicators were not recomputed in time")


def test_dossier_events_recompute_only_their_district_and_period(
    client: TestClient, demo_db: Database
) -> None:
    with demo_db.session("test") as session:
        seed_catalogue(session)
        procedure = session.scalar(
            select(ServiceProcedure)
            .where(ServiceProcedure.processing_days >= 3)
            .order_by(ServiceProcedure.code)
        )
        assert procedure is not None
        district = districts(session)[0]
        commune = session.scalar(select(Place).where(Place.parent_code == district.code))
        assert commune is not None
        prov = province(session).code
        commune_code, procedure_code = commune.code, procedure.code
    before = _cells(demo_db, "DVC-DUNGHAN")
    received = dt.datetime(2025, 7, 1, 2, tzinfo=dt.UTC)  # a Tuesday morning in Vietnam

    def resolve(code: str, done: dt.datetime) -> None:
        with demo_db.session("test") as session:
            new = NewDossier(code, procedure_code, commune_code, "online", received_at=received)
            dossier = dossiers.receive(session, new)
            dossiers.transition(session, dossier, "processing", at=received)
            dossiers.transition(session, dossier, "completed", at=done)

    resolve("T-ONTIME-1", received + dt.timedelta(days=1))
    _wait(lambda: _cells(demo_db, "DVC-DUNGHAN").get((district.code, "2025-Q3")) == (100.0, 1.0))
    resolve("T-LATE-1", dt.datetime(2025, 9, 29, 3, tzinfo=dt.UTC))
    _wait(lambda: _cells(demo_db, "DVC-DUNGHAN").get((district.code, "2025-Q3")) == (50.0, 2.0))
    after = _cells(demo_db, "DVC-DUNGHAN")
    assert after[(prov, "2025-Q3")] == (50.0, 2.0)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {(district.code, "2025-Q3"), (prov, "2025-Q3")}


def test_settling_feedback_moves_its_district_share(client: TestClient, demo_db: Database) -> None:
    with demo_db.session("test") as session:
        req = session.scalar(
            select(FeedbackRequest)
            .where(
                FeedbackRequest.status.in_(("open", "in_progress")),
                FeedbackRequest.place_code.is_not(None),
            )
            .order_by(FeedbackRequest.id)
        )
        assert req is not None
        place = session.get(Place, req.place_code)
        assert place is not None
        district = place.path.split("/")[1]
        period = periods.key_of(periods.local_day(req.requested_at), "quarter")
        recompute.rebuild(session, [period])
    before = _cells(demo_db, "PAKN-XULY")
    settled_before = before[(district, period)]
    with demo_db.session("test") as session:
        found = session.get(FeedbackRequest, req.id)
        assert found is not None
        feedback.transition(session, found, "resolved", note="đã xử lý")

    def moved() -> bool:
        return _cells(demo_db, "PAKN-XULY")[(district, period)] != settled_before

    _wait(moved)
    after = _cells(demo_db, "PAKN-XULY")
    value, received = after[(district, period)]
    assert received == settled_before[1]  # the same requests, one more settled
    assert value is not None and settled_before[0] is not None
    assert abs((value - settled_before[0]) - 100 / received) < 0.011  # one more, 2 decimals
    others = {k for k in after if after[k] != before.get(k)}
    assert {k[1] for k in others} == {period}
    assert {k[0] for k in others} <= {district, req.place_code, place.path.split("/")[0]}


def test_an_import_tally_names_the_cells_it_changed(demo_db: Database) -> None:
    """``dossier.imported`` carries no place of its own: its tallies say which communes and days."""
    with demo_db.session() as session:
        district = districts(session)[1]
        commune = session.scalar(select(Place).where(Place.parent_code == district.code))
        assert commune is not None
        prov = province(session).code
        event = Event(
            "dossier.imported",
            {
                "rows": 3,
                "received": [[commune.code, "2025-06-30", 3]],
                "resolved": [[commune.code, "2025-07-02", "completed", True, 2]],
                "replaced_resolved": [[commune.code, "2025-10-01", "completed", False, 1]],
            },
        )
        cells = recompute.cells_of(session, event)
        assert recompute.cells_of(session, Event("dossier.created", {})) == set()
    assert {(c.code, c.place_code, c.period) for c in cells} == {
        ("DVC-DUNGHAN", district.code, "2025-Q3"),
        ("DVC-DUNGHAN", prov, "2025-Q3"),
        ("DVC-DUNGHAN", district.code, "2025-Q4"),
        ("DVC-DUNGHAN", prov, "2025-Q4"),
        ("DVC-TRUCTUYEN", district.code, "2025-Q2"),  # received: the online share's cells
        ("DVC-TRUCTUYEN", prov, "2025-Q2"),
    }


def test_many_places_at_once_equal_each_place_alone(demo_db: Database) -> None:
    """The grouped feedback query rolled up in Python gives every place what its own query does."""
    from ioc.indicators.computations import COMPUTATIONS

    with demo_db.session() as session:
        places = list(session.scalars(select(Place).order_by(Place.code)))
        # the demo's two weeks of reports end today: the quarter of a week ago holds most
        week_ago = periods.local_day(dt.datetime.now(dt.UTC)) - dt.timedelta(days=7)
        first, last = periods.bounds(periods.key_of(week_ago, "quarter"))
        for name in ("feedback_settled", "feedback_satisfaction"):
            computation = COMPUTATIONS[name]
            assert computation.compute_many is not None
            many = computation.compute_many(session, places, first, last, {})
            alone = {p.code: computation.compute(session, p, first, last) for p in places}
            assert many == alone
            assert many[province(session).code][1] > 500  # a week or more of ~150 a day
            assert sum(1 for ratio in many.values() if ratio[1] > 0) > 100  # communes too
