"""The reception workflow: transitions, SLA due dates in working days, overdue and escalation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import holidays
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ioc.cli import app as cli_app
from ioc.core.db import Database, utcnow
from ioc.core.problems import Invalid
from ioc.feedback import service
from ioc.feedback.models import STATUSES, FeedbackNote, FeedbackRequest, FeedbackService

from .queue_support import (
    FEEDBACK,
    HUU_NGHI,
    VN,
    add,
    event_types,
    get,
    local,
    working_day_after,
)

Auth = Callable[..., dict[str, str]]

# The workflow as the reception rules state it, written out here rather than read from the code.
ALLOWED = {
    ("received", "assigned"),
    ("received", "in_progress"),
    ("received", "rejected"),
    ("received", "duplicate"),
    ("assigned", "in_progress"),
    ("assigned", "resolved"),
    ("assigned", "rejected"),
    ("assigned", "duplicate"),
    ("in_progress", "resolved"),
    ("in_progress", "rejected"),
    ("in_progress", "duplicate"),
    ("resolved", "closed"),
    ("resolved", "in_progress"),
    ("rejected", "in_progress"),
}
# How to bring a fresh request to each status.
PATHS = {
    "received": [],
    "assigned": ["assigned"],
    "in_progress": ["in_progress"],
    "resolved": ["in_progress", "resolved"],
    "closed": ["in_progress", "resolved", "closed"],
    "rejected": ["rejected"],
    "duplicate": ["duplicate"],
}
SETTLING = {"resolved", "rejected", "duplicate"}


def _move(database: Database, request_id: int, status: str, original: int) -> None:
    with database.session("user:vanhanh") as session:
        req = session.get(FeedbackRequest, request_id)
        assert req is not None
        service.transition(session, req, status, note="lý do", duplicate_of=original)


def test_every_transition_is_allowed_or_refused(queue_db: Database) -> None:
    original, _ = add(queue_db, "telecom", point=HUU_NGHI)
    for start in STATUSES:
        for target in STATUSES:
            rid, _ = add(queue_db, "telecom")
            for step in PATHS[start]:
                _move(queue_db, rid, step, original)
            before = get(queue_db, rid)
            assert before.status == start
            with queue_db.session("user:vanhanh") as session:
                req = session.get(FeedbackRequest, rid)
                assert req is not None
                if (start, target) not in ALLOWED:
                    with pytest.raises(Invalid) as refused:
                        service.transition(
                            session, req, target, note="lý do", duplicate_of=original
                        )
                    assert refused.value.field == "status", (start, target)
                    session.rollback()
                    assert get(queue_db, rid).status == start
                    continue
                service.transition(session, req, target, note="lý do", duplicate_of=original)
            after = get(queue_db, rid)
            assert after.status == target, (start, target)
            if target in SETTLING:
                assert after.settled_at is not None and after.settled_at > before.updated_at
            elif target == "in_progress" and start in ("resolved", "rejected"):
                assert after.settled_at is None  # reopened
            elif target == "closed":
                assert after.settled_at == before.settled_at  # closing keeps when it was settled
            else:
                assert after.settled_at is None
            assert event_types(queue_db, rid)[-1] == f"feedback.{target}"
            with queue_db.session() as session:
                last = session.scalars(
                    select(FeedbackNote)
                    .where(FeedbackNote.request_id == rid)
                    .order_by(FeedbackNote.id.desc())
                ).first()
                assert last is not None
                assert (last.status_from, last.status_to, last.actor) == (
                    start,
                    target,
                    "user:vanhanh",
                )


def test_rejecting_needs_a_note_and_a_duplicate_names_its_original(queue_db: Database) -> None:
    original, _ = add(queue_db, "waste")
    rid, _ = add(queue_db, "waste", point=HUU_NGHI)
    with queue_db.session() as session:
        req = session.get(FeedbackRequest, rid)
        assert req is not None
        for note in ("", "   "):
            with pytest.raises(Invalid) as exc:
                service.transition(session, req, "rejected", note=note)
            assert exc.value.field == "note"
        for other in (None, rid, 999_999):
            with pytest.raises(Invalid) as exc:
                service.transition(session, req, "duplicate", duplicate_of=other)
            assert exc.value.field == "duplicate_of"
        session.rollback()
    assert get(queue_db, rid).status == "received"
    assert get(queue_db, rid).duplicate_of is None
    with queue_db.session() as session:
        req = session.get(FeedbackRequest, rid)
        assert req is not None
        service.transition(session, req, "duplicate", duplicate_of=original)
    assert get(queue_db, rid).duplicate_of == original


def test_reopening_a_resolved_request_over_http(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    rid, _ = add(queue_db, "waste")
    ops = auth("vanhanh")
    for status in ("in_progress", "resolved"):
        r = client.post(f"{FEEDBACK}/{rid}/status", json={"status": status}, headers=ops)
        assert r.status_code == 200, r.text
    assert r.json()["settled_at"] is not None
    r = client.post(
        f"{FEEDBACK}/{rid}/status",
        json={"status": "in_progress", "note": "người dân báo vẫn còn rác"},
        headers=ops,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "in_progress" and body["settled_at"] is None
    assert [n["status_to"] for n in body["timeline"]] == [
        "received",
        "in_progress",
        "resolved",
        "in_progress",
    ]
    refused = client.post(f"{FEEDBACK}/{rid}/status", json={"status": "closed"}, headers=ops)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"
    no_note = client.post(f"{FEEDBACK}/{rid}/status", json={"status": "rejected"}, headers=ops)
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"


# --- SLA due dates --------------------------------------------------------------------------------


def _due(database: Database, service_code: str, at: dt.datetime) -> dt.datetime:
    rid, _ = add(database, service_code, at=at)
    expected = get(database, rid).expected_at
    assert expected is not None
    return expected.astimezone(VN)


def test_tet_2026_is_what_the_calendar_package_says() -> None:
    vn = holidays.country_holidays("VN", years=2026)
    tet = sorted(d for d, name in vn.items() if "Lunar New Year" in name)
    assert tet == [dt.date(2026, 2, d) for d in range(16, 21)]  # Mon 16 (eve) to Fri 20 Feb


@pytest.mark.parametrize(
    ("received", "service_code", "days", "due"),
    [
        # Friday afternoon + 3 working days skips the weekend: Wednesday.
        (local(2026, 3, 6, 15), "waste", 3, dt.date(2026, 3, 11)),
        # A Saturday receipt counts from Monday.
        (local(2026, 3, 7, 10), "waste", 3, dt.date(2026, 3, 11)),
        # Friday 13 Feb 2026, then Tết (16-20 Feb) and two weekends: Wednesday 25 Feb.
        (local(2026, 2, 13, 10), "waste", 3, dt.date(2026, 2, 25)),
        # 10 working days from Thursday 12 Feb: 13 Feb, 23-27 Feb, 2-5 Mar.
        (local(2026, 2, 12, 8), "road", 10, dt.date(2026, 3, 5)),
        # 23:30 UTC on Thursday is already Friday in Vietnam: counted from Friday.
        (dt.datetime(2026, 3, 5, 23, 30, tzinfo=dt.UTC), "waste", 3, dt.date(2026, 3, 11)),
    ],
)
def test_due_date_counts_working_days(
    queue_db: Database, received: dt.datetime, service_code: str, days: int, due: dt.date
) -> None:
    assert working_day_after(received.astimezone(VN).date(), days) == due  # the test's own count
    expected = _due(queue_db, service_code, received)
    assert (expected.date(), expected.time()) == (due, dt.time(17, 0))


# --- overdue and escalation -----------------------------------------------------------------------


def _escalate(database: Database, now: dt.datetime) -> int:
    with database.session("system:escalation") as session:
        return service.escalate_overdue(session, now)


def test_district_and_department_requests_escalate_to_the_province(queue_db: Database) -> None:
    received = local(2026, 3, 2, 9)  # Monday; waste is due Thursday 5th, telecom Monday 9th
    district, _ = add(queue_db, "waste", at=received)
    department, _ = add(queue_db, "telecom", at=received)
    settled, _ = add(queue_db, "waste", at=received, point=HUU_NGHI)
    with queue_db.session() as session:
        req = session.get(FeedbackRequest, settled)
        assert req is not None
        service.transition(session, req, "rejected", note="không thuộc thẩm quyền")
    assert (get(queue_db, district).agency_code, get(queue_db, department).agency_code) == (
        "UBND-150",
        "STTTT",
    )
    assert _escalate(queue_db, local(2026, 3, 5, 16)) == 0  # nothing due yet
    assert _escalate(queue_db, local(2026, 3, 5, 18)) == 1  # waste overdue
    raised = get(queue_db, district)
    assert (raised.escalation_level, raised.escalated_to) == (1, "UBND-TINH")
    assert raised.agency_code == "UBND-150"  # the handler stays; the province follows it up
    assert _escalate(queue_db, local(2026, 3, 10, 9)) == 1  # telecom overdue
    assert (get(queue_db, department).escalation_level, get(queue_db, department).escalated_to) == (
        1,
        "UBND-TINH",
    )
    # The province has nobody above it: later runs change nothing, however late.
    assert _escalate(queue_db, local(2026, 6, 1, 9)) == 0
    assert get(queue_db, settled).escalation_level == 0
    assert "feedback.escalated" in event_types(queue_db, district)
    with queue_db.session() as session:
        note = session.scalars(
            select(FeedbackNote).where(
                FeedbackNote.request_id == district, FeedbackNote.kind == "escalate"
            )
        ).one()
        assert (note.agency_from, note.agency_to, note.public) == ("UBND-150", "UBND-TINH", False)


def test_commune_requests_climb_again_after_a_further_sla_period(queue_db: Database) -> None:
    rid, _ = add(queue_db, "waste", at=local(2026, 3, 2, 9))  # due Thu 5 Mar 17:00, SLA 3 days
    with queue_db.session() as session:
        req = session.get(FeedbackRequest, rid)
        assert req is not None
        service.assign(session, req, "UBND-04867", "giao UBND xã Tú Lý")
    first = local(2026, 3, 6, 8)
    assert _escalate(queue_db, first) == 1
    assert (get(queue_db, rid).escalation_level, get(queue_db, rid).escalated_to) == (1, "UBND-150")
    # A further SLA period (3 working days after Friday 6th: Wednesday 11th, 17:00) must pass.
    assert working_day_after(dt.date(2026, 3, 6), 3) == dt.date(2026, 3, 11)
    assert _escalate(queue_db, local(2026, 3, 11, 16)) == 0
    assert _escalate(queue_db, local(2026, 3, 11, 18)) == 1
    again = get(queue_db, rid)
    assert (again.escalation_level, again.escalated_to) == (2, "UBND-TINH")
    assert _escalate(queue_db, local(2026, 4, 30, 9)) == 0


def test_a_request_the_province_handles_is_not_escalated_to_itself(queue_db: Database) -> None:
    rid, _ = add(queue_db, "waste", at=local(2026, 3, 2, 9))
    with queue_db.session() as session:
        req = session.get(FeedbackRequest, rid)
        assert req is not None
        service.assign(session, req, "UBND-TINH")
    assert _escalate(queue_db, local(2026, 4, 1, 9)) == 0
    assert get(queue_db, rid).escalation_level == 0


def test_overdue_and_escalated_show_in_the_queue(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    late, _ = add(queue_db, "waste", at=utcnow() - dt.timedelta(days=30))
    fresh, _ = add(queue_db, "waste", point=HUU_NGHI)
    ops = auth("vanhanh")
    items = client.get(FEEDBACK, params={"overdue": "true"}, headers=ops).json()["items"]
    assert [(i["id"], i["overdue"]) for i in items] == [(late, True)]
    items = client.get(FEEDBACK, params={"overdue": "false"}, headers=ops).json()["items"]
    assert [(i["id"], i["overdue"]) for i in items] == [(fresh, False)]
    assert client.get(FEEDBACK, params={"escalated": "true"}, headers=ops).json()["total"] == 0
    assert _escalate(queue_db, utcnow()) == 1
    items = client.get(FEEDBACK, params={"escalated": "true"}, headers=ops).json()["items"]
    assert [i["id"] for i in items] == [late]
    assert items[0]["escalation"]["level"] == 1 and items[0]["escalation"]["to"] == "UBND-TINH"


def test_escalate_command(monkeypatch: pytest.MonkeyPatch, queue_db: Database) -> None:
    late, _ = add(queue_db, "telecom", at=utcnow() - dt.timedelta(days=30))
    monkeypatch.setenv("IOC_DATABASE_URL", queue_db.url)
    result = CliRunner().invoke(cli_app, ["feedback", "escalate"])
    assert result.exit_code == 0, result.output
    assert "1 overdue requests escalated" in result.output
    assert get(queue_db, late).escalated_to == "UBND-TINH"
    result = CliRunner().invoke(cli_app, ["feedback", "escalate"])
    assert "0 overdue requests escalated" in result.output


def test_scalar_attributes_and_media_urls_are_checked() -> None:
    svc = FeedbackService(
        code="x",
        attributes=[
            {"code": "n", "datatype": "number", "required": False},
            {"code": "when", "datatype": "datetime", "required": False},
            {"code": "pole", "datatype": "string", "required": False},
        ],
    )
    assert service.check_attributes(svc, {"n": "12,5", "pole": [" A-17 "]}) == {
        "n": 12.5,
        "pole": "A-17",
    }
    for bad in ({"n": "many"}, {"n": "nan"}, {"when": "yesterday"}, {"pole": ["a", "b"]}):
        with pytest.raises(Invalid) as err:
            service.check_attributes(svc, bad)
        assert err.value.field.startswith("attribute[")
