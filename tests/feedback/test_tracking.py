"""Citizens follow and rate their request with its token; nothing private ever shows."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.models import OutboxEvent

from .queue_support import CONTACT, FEEDBACK, TU_LY, add, problem

Auth = Callable[..., dict[str, str]]
SECRET_NOTE = "số điện thoại người báo: 0912000111, nghi là hàng xóm gây ra"
TRACK = f"{FEEDBACK}/track"


def _filed(client: TestClient, auth: Auth) -> tuple[int, str]:
    r = client.post(
        f"{FEEDBACK}/hotline",
        json={
            "service_code": "waste",
            "description": "Rác thải ứ đọng ven suối",
            "lat": TU_LY[0],
            "lon": TU_LY[1],
            "attributes": {},
            **CONTACT,
        },
        headers=auth("vanhanh"),
    )
    assert r.status_code == 201, r.text
    return r.json()["request"]["id"], r.json()["token"]


def _work(client: TestClient, auth: Auth, rid: int, *steps: dict[str, object]) -> None:
    ops = auth("vanhanh")
    for body in steps:
        path = "notes" if "text" in body else "status"
        r = client.post(f"{FEEDBACK}/{rid}/{path}", json=body, headers=ops)
        assert r.status_code in (200, 201), r.text


def test_tracking_shows_public_facts_only(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    rid, token = _filed(client, auth)
    _work(
        client,
        auth,
        rid,
        {"text": SECRET_NOTE},
        {"status": "in_progress", "note": "Đã giao tổ vệ sinh môi trường xã"},
        {"text": "Dự kiến thu gom trong tuần", "public": True},
    )
    r = client.get(f"{TRACK}/{token}")  # no login
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["status"], body["service_code"]) == (rid, "in_progress", "waste")
    assert body["agency_code"] == "UBND-150" and body["expected_at"]
    assert [n["text"] for n in body["notes"]] == [
        "Đã giao tổ vệ sinh môi trường xã",
        "Dự kiến thu gom trong tuần",
    ]
    assert body["status_notes"] == "Dự kiến thu gom trong tuần"
    for private in (*CONTACT.values(), SECRET_NOTE, "0912000111", "user:vanhanh"):
        assert private not in r.text, private
    assert not {"contact", "first_name", "phone", "email", "likely_duplicate_of"} & set(body)


def test_an_unknown_token_is_not_found(client: TestClient, queue_db: Database) -> None:
    problem(client.get(f"{TRACK}/not-a-real-token"), 404)
    problem(client.post(f"{TRACK}/not-a-real-token/rating", json={"rating": 5}), 404)


def test_rating_rules(client: TestClient, queue_db: Database, auth: Auth) -> None:
    rid, token = _filed(client, auth)
    problem(client.post(f"{TRACK}/{token}/rating", json={"rating": 5}), 422, "rating")
    _work(client, auth, rid, {"status": "in_progress"}, {"status": "resolved", "note": "Đã xong"})
    for bad in (0, 6, "năm"):
        problem(client.post(f"{TRACK}/{token}/rating", json={"rating": bad}), 422, "rating")
    r = client.post(f"{TRACK}/{token}/rating", json={"rating": 2, "comment": "Chậm"})
    assert r.status_code == 200, r.text
    assert (r.json()["rating"], r.json()["rating_comment"]) == (2, "Chậm")
    # Changing one's mind is allowed, after closing too.
    _work(client, auth, rid, {"status": "closed"})
    r = client.post(f"{TRACK}/{token}/rating", json={"rating": 4})
    assert r.status_code == 200 and r.json()["rating"] == 4 and r.json()["rating_comment"] is None
    staff = client.get(f"{FEEDBACK}/{rid}", headers=auth("vanhanh")).json()
    assert staff["rating"] == 4
    with queue_db.session() as session:
        rated = session.scalars(
            select(OutboxEvent.data).where(
                OutboxEvent.type == "feedback.rated", OutboxEvent.subject == str(rid)
            )
        ).all()
    assert [d["rating"] for d in rated] == [2, 4]


def test_a_rejected_request_cannot_be_rated(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    rid, token = _filed(client, auth)
    _work(client, auth, rid, {"status": "rejected", "note": "Không thuộc thẩm quyền"})
    problem(client.post(f"{TRACK}/{token}/rating", json={"rating": 1}), 422, "rating")
    body = client.get(f"{TRACK}/{token}").json()
    assert body["status"] == "rejected" and body["notes"][-1]["text"] == "Không thuộc thẩm quyền"


def test_the_token_of_one_request_tells_nothing_of_another(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    mine, token = _filed(client, auth)
    other, _ = add(queue_db, "waste", description="Phản ánh của người khác")
    body = client.get(f"{TRACK}/{token}").json()
    assert body["id"] == mine != other and "người khác" not in str(body)
