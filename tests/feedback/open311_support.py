"""Helpers of the Open311 tests: API keys, seeded requests, and reading either format strictly.

``read`` turns a JSON body into text values (``True`` → ``"true"``, ``7`` → ``"7"``) and an
XML body into the same structure, checking the XML declaration and every element name on the
way, so one assertion covers both formats.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.testclient import TestClient

from ioc.core.db import Database, utcnow
from ioc.core.models import OutboxEvent
from ioc.core.users import create_api_key
from ioc.feedback.models import FeedbackNote, FeedbackRequest
from ioc.feedback.service import Submission, submit, transition

PREFIX = "/open311/v2"
FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
TU_LY = (20.895151, 105.248737)  # Xã Tú Lý (04867), huyện Đà Bắc (150)
TU_LY_CODE = "04867"
REQUEST_KEYS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
POSTED_KEYS = {"service_request_id", "token", "service_notice", "account_id"}
TOKEN_KEYS = {"service_request_id", "token"}
# Contact details a citizen gives; none may ever appear in an Open311 response.
CONTACT = {
    "first_name": "Thị Hoa",
    "last_name": "Bùi-Riêng-Tư",
    "email": "hoa.rieng.tu@example.vn",
    "phone": "0987650001",
    "device_id": "device-private-42",
    "account_id": "account-private-77",
}
# Container elements and the element of each of their items.
CONTAINERS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
SCALAR_ITEMS = {"format"}


def url(path: str) -> str:
    return PREFIX + path


def as_text(value: Any) -> Any:
    """A JSON value as XML would carry it: every scalar a string, None stays None."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _from_xml(element: ET.Element) -> Any:
    if element.tag in CONTAINERS:
        item = CONTAINERS[element.tag]
        items = []
        for child in element:
            assert child.tag == item, f"<{element.tag}> holds <{child.tag}>, not <{item}>"
            items.append(child.text if item in SCALAR_ITEMS else _record(child))
        return items
    if len(element):
        return _record(element)
    return element.text


def _record(element: ET.Element) -> dict[str, Any]:
    tags = [child.tag for child in element]
    assert len(tags) == len(set(tags)), f"<{element.tag}> repeats an element: {tags}"
    return {child.tag: _from_xml(child) for child in element}


def read(response: httpx.Response, fmt: str, root: str) -> Any:
    """The body in text form; XML must have the declaration and ``root`` as its root."""
    assert response.headers["content-type"] == MEDIA_TYPES[fmt], response.headers
    if fmt == "json":
        return as_text(response.json())
    assert response.content.startswith(XML_DECLARATION), response.content[:80]
    element = ET.fromstring(response.content)
    assert element.tag == root, f"root is <{element.tag}>, not <{root}>"
    if root in CONTAINERS:
        return _from_xml(element)
    return _record(element)


def assert_error(response: httpx.Response, fmt: str, status: int, *words: str) -> str:
    """The spec's error shape with ``status``; its description mentions each of ``words``."""
    assert response.status_code == status, response.text
    body = read(response, fmt, "errors")
    assert isinstance(body, list) and len(body) == 1, body
    assert set(body[0]) == {"code", "description"}, body
    assert body[0]["code"] == str(status)
    description: str = body[0]["description"]
    for word in words:
        assert word in description, (word, description)
    assert "Traceback" not in response.text
    return description


def make_key(
    database: Database, name: str = "Ứng dụng Hòa Bình Smart", roles: tuple[str, ...] = ("citizen",)
) -> tuple[int, str]:
    """A new API key's id and secret."""
    with database.session("test") as session:
        key, secret = create_api_key(session, name, list(roles))
        return key.id, secret


def post(client: TestClient, fmt: str, api_key: str | None, **fields: Any) -> httpx.Response:
    """``POST requests`` with form fields (a list value repeats the field)."""
    data = dict(fields)
    if api_key is not None:
        data["api_key"] = api_key
    return client.post(url(f"/requests.{fmt}"), data=data)


def stored(database: Database) -> tuple[int, int, int]:
    """How many requests, timeline notes and feedback events the database holds."""
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(FeedbackRequest)) or 0,
            session.scalar(select(func.count()).select_from(FeedbackNote)) or 0,
            session.scalar(select(func.count()).where(OutboxEvent.type.startswith("feedback.")))
            or 0,
        )


def seed_request(
    database: Database,
    service_code: str = "road",
    *,
    requested_at: dt.datetime | None = None,
    settle: bool = False,
    at: tuple[float, float] | None = TU_LY,
    address: str | None = None,
    description: str = "",
) -> int:
    """A request made through the service layer (at ``requested_at``); ``settle`` resolves it."""
    with database.session("test") as session:
        sub = Submission(
            service_code=service_code,
            description=description,
            lat=at[0] if at else None,
            lon=at[1] if at else None,
            address=address,
            requested_at=requested_at or utcnow(),
        )
        req = submit(session, sub).request
        if settle:
            transition(session, req, "in_progress")
            transition(session, req, "resolved", note="Đã vá xong / Repaired")
        return req.id
