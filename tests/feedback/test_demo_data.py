"""The demo's feedback history has the volume and shape of the seed articles, and is consistent."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioc.core.db import Database, utcnow
from ioc.core.models import Agency, AuditEntry, Place
from ioc.core.workdays import default_calendar
from ioc.feedback import service
from ioc.feedback.demo import history_maker
from ioc.feedback.demo_history import SATISFIED, History, HistoryMaker
from ioc.feedback.models import (
    OPEN_STATUSES,
    FeedbackNote,
    FeedbackRequest,
    FeedbackService,
)
from tests.conftest import DEMO_FEEDBACK_DAYS

PROVINCE = "17"


def _requests(database: Database) -> list[FeedbackRequest]:
    with database.session() as session:
        return list(session.scalars(select(FeedbackRequest).order_by(FeedbackRequest.id)))


def _share(part: int, whole: int) -> float:
    assert whole > 0
    return part / whole


def _maker(session: Session, now: dt.datetime, seed: int = 2025) -> HistoryMaker:
    return history_maker(session, PROVINCE, now=now, rng=random.Random(seed))


def test_about_150_reports_a_day_and_none_in_the_future(demo_db: Database) -> None:
    reqs = _requests(demo_db)
    now = utcnow()
    assert 125 <= len(reqs) / DEMO_FEEDBACK_DAYS <= 175
    assert all(r.requested_at <= r.updated_at <= now for r in reqs)
    first = min(r.requested_at for r in reqs)
    assert now - first <= dt.timedelta(days=DEMO_FEEDBACK_DAYS, hours=1)
    with demo_db.session() as session:
        late_note = session.scalar(select(func.max(FeedbackNote.at)))
    assert late_note is not None and late_note <= now


def test_on_time_and_satisfaction_match_the_seeds(demo_db: Database) -> None:
    reqs = _requests(demo_db)
    now = utcnow()
    settled = [r for r in reqs if r.settled_at is not None]
    due = [r for r in reqs if r.expected_at is not None and r.expected_at < now]
    kept = [r for r in due if r.settled_at is not None and r.settled_at <= r.expected_at]
    rated = [r.rating for r in reqs if r.rating is not None]
    # Of the requests already due, ~97 % were settled by then (the rest late, or still open).
    assert 0.94 <= _share(len(kept), len(due)) <= 0.995
    assert _share(sum(r.settled_at <= r.expected_at for r in settled), len(settled)) >= 0.95
    # ~96 % of the citizens who rated were satisfied (Đồng Xoài: 96.19 %). The suite's demo
    # keeps 14 days, ~670 ratings; which of them exist by now moves with the date (92.96 % on
    # 2026-11-27, when a 60-day demo of the same seed gave 96.2 % of 6,310).
    assert 0.92 <= _share(sum(stars >= SATISFIED for stars in rated), len(rated)) <= 0.99
    # The last weeks are still partly open, and a few requests are overdue and escalated.
    still_open = [r for r in reqs if r.status in OPEN_STATUSES]
    assert 0 < len(still_open) < len(reqs) / 2
    assert any(r.escalation_level for r in reqs)


def test_every_request_has_a_commune_an_agency_and_a_due_date(demo_db: Database) -> None:
    calendar = default_calendar()
    with demo_db.session() as session:
        communes = {
            p.code: p
            for p in session.scalars(
                select(Place).where(Place.level == "commune", Place.path.like(f"{PROVINCE}/%"))
            )
        }
        agencies = set(session.scalars(select(Agency.code)))
        sla = dict(session.execute(select(FeedbackService.code, FeedbackService.sla_days)).all())
    reqs = _requests(demo_db)
    for r in reqs:
        place = communes[r.place_code or ""]
        assert r.agency_code in agencies
        assert r.expected_at == calendar.add_working_days(r.requested_at, sla[r.service_code])
        if r.lat is not None and r.lon is not None:
            assert place.min_lat <= r.lat <= place.max_lat
            assert place.min_lon <= r.lon <= place.max_lon
        assert place.short_name in (r.address or "")
        assert r.description and r.channel in service.CHANNELS
    # City wards report more per unit than rural communes; calls lead the channels.
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for r in reqs:
        per_kind[communes[r.place_code or ""].kind][r.place_code or ""] += 1
    per_ward = sum(per_kind["Phường"].values()) / 12
    per_commune = sum(per_kind["Xã"].values()) / 129
    assert per_ward > 2 * per_commune
    assert Counter(r.channel for r in reqs).most_common(1)[0][0] == "hotline"


def test_timelines_follow_the_workflow(demo_db: Database) -> None:
    now = utcnow()
    with demo_db.session() as session:
        notes: dict[int, list[FeedbackNote]] = defaultdict(list)
        for note in session.scalars(select(FeedbackNote).order_by(FeedbackNote.id)):
            notes[note.request_id].append(note)
    for r in _requests(demo_db):
        timeline = notes[r.id]
        first = timeline[0]
        assert (first.kind, first.status_to, first.at) == ("status", "received", r.requested_at)
        status, settled_at, escalations = "received", None, []
        for note in timeline[1:]:
            assert note.at <= now
            if note.kind == "escalate":
                assert status in OPEN_STATUSES and note.at > r.expected_at
                escalations.append(note)
                continue
            assert note.status_from == status
            if note.kind == "assign":
                assert (status, note.status_to) == ("received", "assigned")
            else:
                assert note.status_to in service.TRANSITIONS[status]
            status = note.status_to or ""
            if status in ("resolved", "rejected", "duplicate"):
                settled_at = note.at
            elif status == "in_progress":
                settled_at = None
        assert [n.at for n in timeline] == sorted(n.at for n in timeline)
        assert status == r.status
        assert settled_at == r.settled_at
        assert len(escalations) == r.escalation_level
        assert r.escalated_at == (escalations[-1].at if escalations else None)
        assert r.updated_at >= timeline[-1].at
        if r.rating is not None:
            assert r.status in ("resolved", "closed") and 1 <= r.rating <= 5
        if r.status == "closed":
            assert r.rating is not None
        if r.status == "duplicate":
            assert r.duplicate_of is not None and r.duplicate_of < r.id


def test_the_bulk_load_is_audited_once_and_ids_go_on(demo_db: Database) -> None:
    with demo_db.session() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.entity == "feedback_requests"))
        )
        last = session.scalar(select(func.max(FeedbackRequest.id)))
    assert [(e.action, e.actor) for e in entries] == [("load", "demo")]
    assert entries[0].after is not None and entries[0].after["requests"] == last
    with demo_db.session("test") as session:  # the next report gets the next id (PostgreSQL too)
        sub = service.Submission("waste", "rác", "web", address="xã Tú Lý, huyện Đà Bắc")
        assert service.submit(session, sub).request.id == (last or 0) + 1


def _summary(history: History) -> tuple[float, float, float, float]:
    reqs = history.requests
    settled = [r for r in reqs if r["settled_at"] is not None]
    rated = [r["rating"] for r in reqs if r["rating"] is not None]
    return (
        len(reqs) / history.days,
        _share(sum(r["settled_at"] <= r["expected_at"] for r in settled), len(settled)),
        _share(sum(stars >= SATISFIED for stars in rated), len(rated)),
        _share(len(rated), len(reqs)),
    )


def test_six_months_match_the_seed_figures(demo_db: Database) -> None:
    with demo_db.session() as session:
        history = _maker(session, utcnow()).make(183)
    per_day, on_time, satisfied, rated = _summary(history)
    assert 145 <= per_day <= 155  # Bình Phước: ~150 a day
    assert 0.96 <= on_time <= 0.98  # ~97 % on time
    assert 0.955 <= satisfied <= 0.97  # Đồng Xoài: 96.19 %
    assert 0.75 <= rated <= 0.81  # Đồng Xoài: 469 of 600 settled and confirmed


@pytest.mark.parametrize("month", [7, 12])
def test_the_rainy_season_brings_floods_and_landslides(demo_db: Database, month: int) -> None:
    now = dt.datetime(2026, month, 28, 5, tzinfo=dt.UTC)
    with demo_db.session() as session:
        history = _maker(session, now).make(21)
    floods = _share(
        sum(r["service_code"] == "flood" for r in history.requests), len(history.requests)
    )
    assert floods > 0.12 if month == 7 else floods < 0.03


def test_the_history_is_the_same_for_the_same_seed(demo_db: Database) -> None:
    now = utcnow()
    with demo_db.session() as session:
        a, b, c = (_maker(session, now, seed).make(2) for seed in (7, 7, 8))

    def strip(h: History) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "token_hash"} for r in h.requests]

    assert strip(a) == strip(b) and a.notes == b.notes
    assert strip(a) != strip(c)
