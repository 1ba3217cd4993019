"""Helpers of the queue, workflow, import, measures and tracking tests: places, seeding, rows."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx
from sqlalchemy import func, select

from ioc.core.db import Database
from ioc.core.models import AuditEntry, OutboxEvent
from ioc.feedback.models import FeedbackNote, FeedbackRequest
from ioc.feedback.service import DuplicateRule, Submission, submit

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TU_LY = (20.895151, 105.248737)  # Xã Tú Lý (04867), huyện Đà Bắc (150)
TU_LY_CODE = "04867"
HUU_NGHI = (20.832809, 105.327754)  # Phường Hữu Nghị (04798), thành phố Hòa Bình (148)
HUU_NGHI_CODE = "04798"
DA_BAC = "150"
TP_HOA_BINH = "148"
CONTACT = {
    "first_name": "Văn Bình",
    "last_name": "Đinh-Riêng-Tư",
    "email": "binh.rieng.tu@example.vn",
    "phone": "0912000111",
}
FEEDBACK = "/api/v1/feedback"


def local(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    """A Vietnam wall-clock time, as the aware datetime the service takes."""
    return dt.datetime(y, m, d, h, mi, tzinfo=VN)


def add(
    database: Database,
    service_code: str = "waste",
    *,
    at: dt.datetime | None = None,
    point: tuple[float, float] | None = TU_LY,
    address: str | None = None,
    rule: DuplicateRule | None = None,
    actor: str = "test",
    **fields: Any,
) -> tuple[int, str]:
    """Store one request through the service; returns its id and token."""
    lat, lon = point if point else (None, None)
    sub = Submission(
        service_code=service_code,
        description=fields.pop("description", f"phản ánh {service_code}"),
        channel=fields.pop("channel", "web"),
        lat=lat,
        lon=lon,
        address=address,
        requested_at=at,
        **fields,
    )
    with database.session(actor) as session:
        done = submit(session, sub, rule)
        return done.request.id, done.token


def get(database: Database, request_id: int) -> FeedbackRequest:
    with database.session() as session:
        req = session.get(FeedbackRequest, request_id)
        assert req is not None
        return req


def count(database: Database, model: type[Any]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def feedback_rows(database: Database) -> dict[str, int]:
    """How many requests, notes, feedback events and feedback audit rows there are."""
    with database.session() as session:
        return {
            "requests": session.scalar(select(func.count()).select_from(FeedbackRequest)) or 0,
            "notes": session.scalar(select(func.count()).select_from(FeedbackNote)) or 0,
            "events": session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.type.startswith("feedback."))
            )
            or 0,
            "audit": session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.entity.startswith("feedback_"))
            )
            or 0,
        }


def event_types(database: Database, request_id: int) -> list[str]:
    with database.session() as session:
        return list(
            session.scalars(
                select(OutboxEvent.type)
                .where(OutboxEvent.subject == str(request_id))
                .order_by(OutboxEvent.id)
            )
        )


def working_day_after(start: dt.date, n: int) -> dt.date:
    """The n-th Vietnamese working day after ``start``, counted here from the holidays package
    directly (weekends and public holidays off, make-up Saturdays worked), not from ioc."""
    vn = holidays.country_holidays("VN", years=range(start.year, start.year + 2))
    worked = set(vn.weekend_workdays)
    day = start
    while n:
        day += dt.timedelta(days=1)
        if day in worked or (day.weekday() < 5 and day not in vn):
            n -= 1
    return day


def problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem of ``status`` (naming ``field``, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body
