"""Measures against numbers worked out by hand on a small fixed set of requests.

Seven requests received between Monday 2 March and Wednesday 1 April 2026 (Vietnam time), one
more before the window. Working days: 2-6 and 9-13 March, 1-3 April are all working days.

| # | service | where | received | settled | due (SLA) | hours | w. days | rating |
|---|---|---|---|---|---|---|---|---|
| R1 | waste | Đà Bắc | Mon 2/3 09:00 | resolved Wed 4/3 09:00 | Thu 5/3 17:00 | 48 | 2 | 5 |
| R2 | waste | Đà Bắc | Mon 2/3 10:00 | resolved Mon 9/3 10:00 late | Thu 5/3 17:00 | 168 | 5 | 2 |
| R3 | waste | TP Hòa Bình | Tue 3/3 08:00 | rejected Tue 3/3 14:00 | Fri 6/3 17:00 | 6 | 0 | — |
| R4 | telecom | TP Hòa Bình | Wed 4/3 09:00 | open (overdue) | Wed 11/3 17:00 | | | |
| R5 | telecom | Đà Bắc | Thu 5/3 09:00 | in progress (overdue) | Thu 12/3 17:00 | | | |
| R6 | waste | Đà Bắc | Fri 6/3 16:00 | resolved Mon 9/3 08:00 | Wed 11/3 17:00 | 64 | 1 | 4 |
| R8 | waste | TP Hòa Bình | Wed 1/4 06:00 | resolved Thu 2/4 06:00 | Mon 6/4 17:00 | 24 | 1 | 3 |
| R0 | waste | Đà Bắc | Sat 28/2 — outside the window | | | | | |

R8 arrives at 23:00 UTC on 31 March: it belongs to April, Vietnam time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.scope import Scope
from ioc.feedback import measures, service
from ioc.feedback.models import FeedbackRequest

from .queue_support import FEEDBACK, HUU_NGHI, TU_LY, add, local, problem

Auth = Callable[..., dict[str, str]]
MEASURES = f"{FEEDBACK}/measures"
WINDOW = {"from": "2026-03-01", "to": "2026-04-30"}
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _settle(database: Database, rid: int, steps: list[tuple[str, dt.datetime]]) -> None:
    with database.session("user:vanhanh") as session:
        req = session.get(FeedbackRequest, rid)
        assert req is not None
        for status, at in steps:
            service.transition(session, req, status, note="xong", at=at)


def _rate(database: Database, token: str, rating: int) -> None:
    with database.session("anonymous") as session:
        service.rate(session, token, rating)


@pytest.fixture
def dataset(queue_db: Database) -> Database:
    r1, t1 = add(queue_db, "waste", at=local(2026, 3, 2, 9), point=TU_LY)
    r2, t2 = add(queue_db, "waste", at=local(2026, 3, 2, 10), point=TU_LY, channel="hotline")
    r3, _ = add(queue_db, "waste", at=local(2026, 3, 3, 8), point=HUU_NGHI, channel="sms")
    add(queue_db, "telecom", at=local(2026, 3, 4, 9), point=HUU_NGHI)
    r5, _ = add(queue_db, "telecom", at=local(2026, 3, 5, 9), point=TU_LY)
    r6, t6 = add(queue_db, "waste", at=local(2026, 3, 6, 16), point=TU_LY)
    r8, t8 = add(queue_db, "waste", at=local(2026, 4, 1, 6), point=HUU_NGHI)
    add(queue_db, "waste", at=local(2026, 2, 28, 9), point=TU_LY)
    _settle(
        queue_db, r1, [("in_progress", local(2026, 3, 3, 9)), ("resolved", local(2026, 3, 4, 9))]
    )
    _settle(
        queue_db, r2, [("in_progress", local(2026, 3, 3, 9)), ("resolved", local(2026, 3, 9, 10))]
    )
    _settle(queue_db, r3, [("rejected", local(2026, 3, 3, 14))])
    _settle(queue_db, r5, [("in_progress", local(2026, 3, 6, 9))])
    _settle(
        queue_db, r6, [("in_progress", local(2026, 3, 7, 9)), ("resolved", local(2026, 3, 9, 8))]
    )
    _settle(
        queue_db, r8, [("in_progress", local(2026, 4, 1, 9)), ("resolved", local(2026, 4, 2, 6))]
    )
    for token, rating in ((t1, 5), (t2, 2), (t6, 4), (t8, 3)):
        _rate(queue_db, token, rating)
    return queue_db


def _compute(database: Database, **kwargs: Any) -> measures.Report:
    with database.session() as session:
        return measures.compute(
            session,
            Scope().where(place=FeedbackRequest.place_code, agency=FeedbackRequest.agency_code),
            start=dt.date(2026, 3, 1),
            end=dt.date(2026, 4, 30),
            now=NOW,
            **kwargs,
        )


def _numbers(m: measures.Measures) -> tuple[Any, ...]:
    return (
        m.received,
        m.settled,
        m.settled_pct,
        m.on_time_pct,
        m.rated,
        m.satisfaction_pct,
        m.median_hours_to_settle,
        m.median_working_days_to_settle,
        m.overdue_open,
    )


#              received settled  %     on time  rated  satisfied  hours  w. days  overdue
TOTAL = (7, 5, 71.4, 80.0, 4, 50.0, 48.0, 1.0, 2)
DA_BAC = (4, 3, 75.0, 66.7, 3, 66.7, 64.0, 2.0, 1)  # R1 R2 R5 R6
CITY = (3, 2, 66.7, 100.0, 1, 0.0, 15.0, 0.5, 1)  # R3 R4 R8
MARCH = (6, 4, 66.7, 75.0, 3, 66.7, 56.0, 1.5, 2)  # R1-R6
APRIL = (1, 1, 100.0, 100.0, 1, 0.0, 24.0, 1.0, 0)  # R8


def test_by_district(dataset: Database) -> None:
    report = _compute(dataset, by="district")
    assert _numbers(report.total) == TOTAL
    assert [(g.key, g.name, _numbers(g.measures)) for g in report.groups] == [
        ("150", "Huyện Đà Bắc", DA_BAC),
        ("148", "Thành phố Hòa Bình", CITY),
    ]


@pytest.mark.parametrize(
    ("period", "groups"),
    [
        ("month", [("2026-03", MARCH), ("2026-04", APRIL)]),
        ("quarter", [("2026-Q1", MARCH), ("2026-Q2", APRIL)]),
        ("week", [("2026-03-02", MARCH), ("2026-03-30", APRIL)]),
    ],
)
def test_by_period_in_vietnam_time(
    dataset: Database, period: str, groups: list[tuple[str, tuple[Any, ...]]]
) -> None:
    report = _compute(dataset, by="period", period=period)
    shown = [(g.key, _numbers(g.measures)) for g in report.groups if g.measures.received]
    assert shown == groups
    assert _numbers(report.total) == TOTAL


def test_periods_without_requests_are_zero_groups(dataset: Database) -> None:
    """A chart of March–April by week has every week, the quiet ones at zero."""
    weeks = _compute(dataset, by="period", period="week").groups
    assert [g.key for g in weeks] == [
        "2026-02-23",  # holds Sunday 1 March, the first day asked for
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
        "2026-04-06",
        "2026-04-13",
        "2026-04-20",
        "2026-04-27",
    ]
    quiet = weeks[2].measures
    assert (quiet.received, quiet.settled_pct, quiet.median_hours_to_settle) == (0, None, None)
    days = _compute(dataset, by="period", period="day").groups
    assert len(days) == 61 and days[0].key == "2026-03-01" and days[-1].key == "2026-04-30"
    with dataset.session() as session:  # no bounds: from the first request to today
        open_ended = measures.compute(
            session,
            Scope().where(place=FeedbackRequest.place_code, agency=FeedbackRequest.agency_code),
            by="period",
            period="quarter",
            now=NOW,
        )
    assert [g.key for g in open_ended.groups] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [g.measures.received for g in open_ended.groups] == [7, 1, 0, 0]  # R0 in February


def test_by_day(dataset: Database) -> None:
    report = _compute(dataset, by="period", period="day")
    assert [(g.key, g.measures.received) for g in report.groups if g.measures.received] == [
        ("2026-03-02", 2),
        ("2026-03-03", 1),
        ("2026-03-04", 1),
        ("2026-03-05", 1),
        ("2026-03-06", 1),
        ("2026-04-01", 1),  # 23:00 UTC on 31 March
    ]


def test_by_agency_service_channel_and_commune(dataset: Database) -> None:
    def received(by: str) -> list[tuple[str | None, int]]:
        return [(g.key, g.measures.received) for g in _compute(dataset, by=by).groups]

    assert received("agency") == [("UBND-150", 3), ("STTTT", 2), ("UBND-148", 2)]
    assert received("service") == [("waste", 5), ("telecom", 2)]
    assert received("channel") == [("web", 5), ("hotline", 1), ("sms", 1)]
    assert received("commune") == [("04867", 4), ("04798", 3)]
    telecom = next(g for g in _compute(dataset, by="service").groups if g.key == "telecom")
    assert _numbers(telecom.measures) == (2, 0, 0.0, None, 0, None, None, None, 2)


def test_counts_are_sql_aggregates(dataset: Database) -> None:
    """A handful of statements whatever the number of requests: no query per request."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(dataset.engine, "before_cursor_execute", count)
    try:
        _compute(dataset, by="district")
    finally:
        event.remove(dataset.engine, "before_cursor_execute", count)
    assert len(statements) <= 5, statements
    assert any("GROUP BY" in s.upper() for s in statements)


def test_over_http_with_scope(client: TestClient, dataset: Database, auth: Auth) -> None:
    r = client.get(MEASURES, params={**WINDOW, "by": "district"}, headers=auth("lanhdao"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["by"], body["from"], body["to"]) == ("district", "2026-03-01", "2026-04-30")
    total = body["total"]
    assert (total["received"], total["on_time_pct"], total["median_hours_to_settle"]) == (
        7,
        80.0,
        48.0,
    )
    assert total["overdue_open"] == 2  # R4 and R5 are still open, long past due
    assert [g["key"] for g in body["groups"]] == ["150", "148"]
    # A district admin's measures cover their district only.
    mine = client.get(MEASURES, params={**WINDOW, "by": "commune"}, headers=auth("dabac")).json()
    assert mine["total"]["received"] == 4 and [g["key"] for g in mine["groups"]] == ["04867"]
    assert mine["total"]["satisfaction_pct"] == 66.7
    # STTTT staff: their agency's requests.
    staff = client.get(MEASURES, params=WINDOW, headers=auth("sotttt")).json()
    assert staff["total"]["received"] == 2 and staff["period"] == "month"
    problem(client.get(MEASURES, headers=auth("congdan")), 403)
    problem(client.get(MEASURES), 401)
    problem(client.get(MEASURES, params={"by": "colour"}, headers=auth("lanhdao")), 422)


def test_nothing_received_gives_empty_measures(
    client: TestClient, dataset: Database, auth: Auth
) -> None:
    r = client.get(
        MEASURES, params={"from": "2025-01-01", "to": "2025-01-31"}, headers=auth("vanhanh")
    )
    body = r.json()
    assert [g["key"] for g in body["groups"]] == ["2025-01"]  # the month asked for, at zero
    assert body["groups"][0] == {"key": "2025-01", "name": "2025-01", **body["total"]}
    assert body["total"] == {
        "received": 0,
        "settled": 0,
        "settled_pct": None,
        "on_time_pct": None,
        "satisfaction_pct": None,
        "rated": 0,
        "median_hours_to_settle": None,
        "median_working_days_to_settle": None,
        "overdue_open": 0,
    }


def test_counts_alone_leave_the_medians_out(dataset: Database) -> None:
    """What the indicators ask for: the same counts, no per-request timestamps read."""
    full = _compute(dataset, by="district")
    counts = _compute(dataset, by="district", medians=False)
    assert _numbers(counts.total)[:6] == _numbers(full.total)[:6] == TOTAL[:6]
    assert counts.total.median_hours_to_settle is None
    assert counts.total.median_working_days_to_settle is None
    assert counts.total.overdue_open == full.total.overdue_open
