"""The staff queue over HTTP: scope, filters, paging, detail, permissions, audit and events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from ioc.core import users
from ioc.core.db import Database
from ioc.core.models import AuditEntry
from ioc.demo.builder import DEMO_PASSWORD

from .queue_support import (
    CONTACT,
    FEEDBACK,
    HUU_NGHI,
    TU_LY,
    TU_LY_CODE,
    add,
    event_types,
    local,
    problem,
)

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def four(queue_db: Database) -> dict[str, int]:
    """Four requests: two places (Đà Bắc, TP Hòa Bình) × two handlers (committee, STTTT)."""
    return {
        "dabac_waste": add(
            queue_db, "waste", at=local(2026, 3, 2, 9), point=TU_LY, channel="sms", **CONTACT
        )[0],
        "city_telecom": add(
            queue_db,
            "telecom",
            at=local(2026, 3, 3, 9),
            point=HUU_NGHI,
            description="Mất sóng di động khu phố",
        )[0],
        "city_waste": add(queue_db, "waste", at=local(2026, 3, 4, 9), point=HUU_NGHI)[0],
        "dabac_telecom": add(
            queue_db,
            "telecom",
            at=local(2026, 3, 5, 9),
            point=TU_LY,
            description="Cổng dịch vụ công không truy cập được",
        )[0],
    }


def ids(client: TestClient, headers: dict[str, str], **params: Any) -> list[int]:
    r = client.get(FEEDBACK, params={"sort": "oldest", **params}, headers=headers)
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


def test_each_role_sees_its_scope(client: TestClient, auth: Auth, four: dict[str, int]) -> None:
    everything = [
        four["dabac_waste"],
        four["city_telecom"],
        four["city_waste"],
        four["dabac_telecom"],
    ]
    for user in ("admin", "lanhdao", "vanhanh"):
        assert ids(client, auth(user)) == everything, user
    assert ids(client, auth("dabac")) == [four["dabac_waste"], four["dabac_telecom"]]
    assert ids(client, auth("sotttt")) == [four["city_telecom"], four["dabac_telecom"]]


def test_citizens_and_strangers_are_kept_out(
    client: TestClient, auth: Auth, four: dict[str, int]
) -> None:
    problem(client.get(FEEDBACK), 401)
    problem(client.get(FEEDBACK, headers=auth("congdan")), 403)
    problem(client.get(f"{FEEDBACK}/{four['dabac_waste']}", headers=auth("congdan")), 403)
    problem(client.post(f"{FEEDBACK}/{four['dabac_waste']}/notes", json={"text": "x"}), 401)


def test_a_request_out_of_scope_is_not_found(
    client: TestClient, auth: Auth, four: dict[str, int]
) -> None:
    dabac, sotttt = auth("dabac"), auth("sotttt")
    problem(client.get(f"{FEEDBACK}/{four['city_waste']}", headers=dabac), 404)
    problem(client.get(f"{FEEDBACK}/{four['dabac_waste']}", headers=sotttt), 404)
    problem(
        client.post(
            f"{FEEDBACK}/{four['city_waste']}/status", json={"status": "in_progress"}, headers=dabac
        ),
        404,
    )
    problem(
        client.post(
            f"{FEEDBACK}/{four['dabac_waste']}/status",
            json={"status": "in_progress"},
            headers=sotttt,
        ),
        404,
    )
    problem(client.get(f"{FEEDBACK}/999999", headers=auth("admin")), 404)
    assert (
        client.get(f"{FEEDBACK}/{four['city_waste']}", headers=auth("lanhdao")).status_code == 200
    )


def test_items_carry_contact_due_date_and_flags(
    client: TestClient, auth: Auth, four: dict[str, int]
) -> None:
    r = client.get(f"{FEEDBACK}/{four['dabac_waste']}", headers=auth("dabac"))
    assert r.status_code == 200, r.text
    item = r.json()
    assert item["contact"] == {
        "first_name": CONTACT["first_name"],
        "last_name": CONTACT["last_name"],
        "email": CONTACT["email"],
        "phone": CONTACT["phone"],
    }
    assert item["expected_at"].startswith("2026-03-05T10:00:00")  # Thu 17:00 in Vietnam
    assert item["overdue"] is True  # March 2026 is long past
    assert item["escalation"] == {"level": 0, "to": None, "at": None}
    assert (item["place_code"], item["agency_code"], item["service_name"]) == (
        TU_LY_CODE,
        "UBND-150",
        "Rác thải, vệ sinh môi trường",
    )
    assert item["timeline"][0]["status_to"] == "received"


def test_filters(client: TestClient, auth: Auth, four: dict[str, int]) -> None:
    ops = auth("vanhanh")
    assert ids(client, ops, service_code="telecom") == [
        four["city_telecom"],
        four["dabac_telecom"],
    ]
    assert ids(client, ops, channel="sms") == [four["dabac_waste"]]
    assert ids(client, ops, agency_code="UBND-148") == [four["city_waste"]]
    assert ids(client, ops, place="150") == [four["dabac_waste"], four["dabac_telecom"]]
    assert ids(client, ops, place=TU_LY_CODE) == [four["dabac_waste"], four["dabac_telecom"]]
    assert ids(client, ops, place="17") == sorted(four.values())
    # Text in the description, whatever the case of its Vietnamese letters.
    assert ids(client, ops, q="mất sóng") == [four["city_telecom"]]
    assert ids(client, ops, q="CỔNG DỊCH VỤ") == [four["dabac_telecom"]]
    assert ids(client, ops, q="100%") == []
    # Local days, both ends included.
    assert ids(client, ops, **{"from": "2026-03-03", "to": "2026-03-04"}) == [
        four["city_telecom"],
        four["city_waste"],
    ]
    problem(client.get(FEEDBACK, params={"status": "lost"}, headers=ops), 422, "status")
    problem(client.get(FEEDBACK, params={"place": "99999"}, headers=ops), 422, "place")
    problem(client.get(FEEDBACK, params={"sort": "random"}, headers=ops), 422)
    problem(
        client.get(FEEDBACK, params={"from": "2026-03-05", "to": "2026-03-01"}, headers=ops),
        422,
        "to",
    )


def test_status_filter_sort_and_paging(
    client: TestClient, auth: Auth, four: dict[str, int]
) -> None:
    ops = auth("vanhanh")
    r = client.post(
        f"{FEEDBACK}/{four['city_waste']}/status", json={"status": "in_progress"}, headers=ops
    )
    assert r.status_code == 200, r.text
    assert ids(client, ops, status="in_progress") == [four["city_waste"]]
    assert ids(client, ops, status=["in_progress", "received"]) == sorted(four.values())
    assert ids(client, ops, status="received") == [
        four["dabac_waste"],
        four["city_telecom"],
        four["dabac_telecom"],
    ]
    newest = client.get(FEEDBACK, params={"sort": "newest"}, headers=ops).json()
    assert [i["id"] for i in newest["items"]] == sorted(four.values(), reverse=True)
    due = client.get(FEEDBACK, params={"sort": "due"}, headers=ops).json()["items"]
    assert [i["expected_at"] for i in due] == sorted(i["expected_at"] for i in due)
    page = client.get(FEEDBACK, params={"sort": "oldest", "limit": 2, "offset": 1}, headers=ops)
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (4, 2, 1)
    assert [i["id"] for i in body["items"]] == [four["city_telecom"], four["city_waste"]]


def test_who_may_change_what(client: TestClient, auth: Auth, four: dict[str, int]) -> None:
    sotttt, lanhdao, dabac = auth("sotttt"), auth("lanhdao"), auth("dabac")
    own = four["dabac_telecom"]
    # Agency staff work their own agency's requests, but do not hand them around.
    r = client.post(f"{FEEDBACK}/{own}/status", json={"status": "in_progress"}, headers=sotttt)
    assert r.status_code == 200, r.text
    problem(
        client.post(f"{FEEDBACK}/{own}/assign", json={"agency_code": "VNPT"}, headers=sotttt),
        403,
    )
    # Leaders read; they do not work the queue.
    problem(
        client.post(f"{FEEDBACK}/{own}/status", json={"status": "resolved"}, headers=lanhdao), 403
    )
    problem(client.post(f"{FEEDBACK}/{own}/notes", json={"text": "x"}, headers=lanhdao), 403)
    problem(
        client.post(f"{FEEDBACK}/{own}/assign", json={"agency_code": "VNPT"}, headers=lanhdao),
        403,
    )
    # A district admin hands a request of the district to the telecom provider.
    r = client.post(
        f"{FEEDBACK}/{own}/assign",
        json={"agency_code": "VNPT", "note": "chuyển VNPT xử lý"},
        headers=dabac,
    )
    assert r.status_code == 200, r.text
    assert r.json()["agency_code"] == "VNPT"
    assert r.json()["timeline"][-1]["kind"] == "assign"
    # … and STTTT no longer sees it.
    problem(client.get(f"{FEEDBACK}/{own}", headers=sotttt), 404)
    problem(
        client.post(f"{FEEDBACK}/{own}/assign", json={"agency_code": "NOPE"}, headers=dabac),
        422,
        "agency_code",
    )
    # Duplicates point at a request the caller can see.
    problem(
        client.post(
            f"{FEEDBACK}/{four['dabac_waste']}/status",
            json={"status": "duplicate", "duplicate_of": four["city_waste"]},
            headers=dabac,
        ),
        422,
        "duplicate_of",
    )


def test_notes_internal_and_public(client: TestClient, auth: Auth, four: dict[str, int]) -> None:
    ops = auth("vanhanh")
    rid = four["city_waste"]
    internal = client.post(
        f"{FEEDBACK}/{rid}/notes", json={"text": "gọi lại cho tổ trưởng"}, headers=ops
    )
    public = client.post(
        f"{FEEDBACK}/{rid}/notes",
        json={"text": "Đã chuyển tổ thu gom", "public": True},
        headers=ops,
    )
    assert (internal.status_code, public.status_code) == (201, 201)
    assert (internal.json()["public"], public.json()["public"]) == (False, True)
    detail = client.get(f"{FEEDBACK}/{rid}", headers=ops).json()
    assert [(n["kind"], n["text"], n["public"]) for n in detail["timeline"][1:]] == [
        ("note", "gọi lại cho tổ trưởng", False),
        ("note", "Đã chuyển tổ thu gom", True),
    ]
    assert detail["status_notes"] == "Đã chuyển tổ thu gom"
    empty = client.post(f"{FEEDBACK}/{rid}/notes", json={"text": ""}, headers=ops)
    assert empty.status_code == 422


def test_every_change_is_audited_and_published(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    ops = auth("vanhanh")
    r = client.post(
        f"{FEEDBACK}/hotline",
        json={
            "service_code": "telecom",
            "description": "Mất mạng internet cả xóm",
            "lat": TU_LY[0],
            "lon": TU_LY[1],
            **CONTACT,
        },
        headers=ops,
    )
    assert r.status_code == 201, r.text
    rid, token = r.json()["request"]["id"], r.json()["token"]
    steps: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("assign", {"agency_code": "STTTT"}, ops),
        ("status", {"status": "in_progress"}, auth("sotttt")),
        ("notes", {"text": "đã cử kỹ thuật"}, auth("sotttt")),
        ("status", {"status": "resolved", "note": "đã khắc phục"}, auth("sotttt")),
    ]
    for path, body, headers in steps:
        r = client.post(f"{FEEDBACK}/{rid}/{path}", json=body, headers=headers)
        assert r.status_code in (200, 201), r.text
    r = client.post(f"{FEEDBACK}/track/{token}/rating", json={"rating": 5})
    assert r.status_code == 200, r.text
    r = client.post(f"{FEEDBACK}/{rid}/status", json={"status": "closed"}, headers=ops)
    assert r.status_code == 200, r.text
    assert event_types(queue_db, rid) == [
        "feedback.created",
        "feedback.assigned",
        "feedback.in_progress",
        "feedback.noted",
        "feedback.resolved",
        "feedback.rated",
        "feedback.closed",
    ]
    with queue_db.session() as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.after)
            .where(AuditEntry.entity == "feedback_requests", AuditEntry.entity_id == str(rid))
            .order_by(AuditEntry.id)
        ).all()
        notes = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.entity == "feedback_notes", AuditEntry.action == "insert"
            )
        ).all()
    statuses = [(actor, action, (after or {}).get("status")) for actor, action, after in rows]
    assert statuses == [
        ("user:vanhanh", "insert", "received"),
        ("user:vanhanh", "update", "assigned"),
        ("user:sotttt", "update", "in_progress"),
        ("user:sotttt", "update", None),  # the note touched updated_at
        ("user:sotttt", "update", "resolved"),
        ("anonymous", "update", None),  # the rating
        ("user:vanhanh", "update", "closed"),
    ]
    assert rows[0][2]["token_hash"] == "***"
    assert rows[5][2]["rating"] == 5
    assert len(notes) == 6  # received, assigned, in_progress, the note, resolved, closed


def test_agency_staff_without_an_agency_only_read(
    client: TestClient, queue_db: Database, auth: Auth, four: dict[str, int]
) -> None:
    """Staff of an agency scoped to a district see its requests but work none of them."""
    with queue_db.session("test") as session:
        users.create_user(
            session,
            "canbo.dabac",
            DEMO_PASSWORD,
            users.UserFields(roles=["agency_staff"], place_code="150"),
        )
    staff = auth("canbo.dabac")
    assert ids(client, staff) == [four["dabac_waste"], four["dabac_telecom"]]
    problem(
        client.post(
            f"{FEEDBACK}/{four['dabac_waste']}/status",
            json={"status": "in_progress"},
            headers=staff,
        ),
        403,
    )
    problem(
        client.post(f"{FEEDBACK}/{four['dabac_waste']}/notes", json={"text": "x"}, headers=staff),
        403,
    )
