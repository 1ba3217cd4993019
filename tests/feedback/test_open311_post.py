"""Open311 POST requests and tokens: stored, located, routed, and never echoing contact data."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from starlette.routing import Match
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.models import OutboxEvent
from ioc.feedback import open311
from ioc.feedback.models import FeedbackNote, FeedbackRequest
from ioc.feedback.service import hash_token
from tests.feedback.open311_support import (
    CONTACT,
    FORMATS,
    POSTED_KEYS,
    REQUEST_KEYS,
    TOKEN_KEYS,
    TU_LY,
    TU_LY_CODE,
    assert_error,
    make_key,
    post,
    read,
    url,
)

KEY_NAME = "Ứng dụng Hòa Bình Smart"


def _stored(database: Database, request_id: int) -> FeedbackRequest:
    with database.session() as session:
        req = session.get(FeedbackRequest, request_id)
        assert req is not None
        return req


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_with_a_point_is_located_routed_and_listed(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    key_id, secret = make_key(catalogue, KEY_NAME)
    response = post(
        client,
        fmt,
        secret,
        service_code="road",
        lat=str(TU_LY[0]),
        long=str(TU_LY[1]),
        description="Ổ gà lớn giữa đường liên xã, xe máy dễ ngã",
        media_url="https://example.vn/anh/o-ga.jpg",
        **{"attribute[road_type]": "commune", "attribute[danger]": "yes"},
        **CONTACT,
    )
    assert response.status_code == 200, response.text
    [posted] = read(response, fmt, "service_requests")
    assert set(posted) == POSTED_KEYS
    assert posted["account_id"] is None
    request_id = int(posted["service_request_id"])
    assert re.search(
        r"hạn giải quyết \d\d/\d\d/\d{4}\. Received; due by \d{4}-\d\d-\d\d",
        posted["service_notice"],
    )
    assert "duplicate" not in posted["service_notice"]

    req = _stored(catalogue, request_id)
    assert (req.place_code, req.agency_code, req.channel) == (TU_LY_CODE, "UBND-150", "open311")
    assert req.api_key_id == key_id
    assert req.created_by == f"apikey:{key_id}:{KEY_NAME}"
    assert req.attributes == {"road_type": "commune", "danger": "yes"}
    assert (req.email, req.phone, req.account_id) == (
        CONTACT["email"],
        CONTACT["phone"],
        CONTACT["account_id"],
    )  # kept for staff
    assert req.token_hash == hash_token(posted["token"])
    with catalogue.session() as session:
        note = session.scalars(
            select(FeedbackNote).where(FeedbackNote.request_id == request_id)
        ).one()
        assert note.actor == f"apikey:{key_id}:{KEY_NAME}"
        event = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "feedback.created")
        ).one()
        assert event.data["channel"] == "open311" and event.data["id"] == request_id

    for lang, agency, name in (
        ("vi", "UBND huyện Đà Bắc", "Đường, cầu, cống hư hỏng"),
        ("en", "People's Committee of Đà Bắc District", "Damaged roads, bridges and culverts"),
    ):
        listed = client.get(url(f"/requests/{request_id}.{fmt}"), params={"lang": lang})
        [item] = read(listed, fmt, "service_requests")
        assert set(item) == REQUEST_KEYS
        assert item["agency_responsible"] == agency
        assert item["service_name"] == name
    assert item["status"] == "open"
    assert item["service_code"] == "road"
    assert (item["lat"], item["long"]) == (str(TU_LY[0]), str(TU_LY[1]))
    assert item["media_url"] == "https://example.vn/anh/o-ga.jpg"
    assert item["service_notice"] == posted["service_notice"]
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert item[field].endswith("+07:00"), item[field]
    assert item["expected_datetime"] > item["requested_datetime"]


def test_post_json_types(client: TestClient, catalogue: Database) -> None:
    _, secret = make_key(catalogue)
    response = post(
        client, "json", secret, service_code="waste", lat="20.895151", long="105.248737"
    )
    [posted] = response.json()
    assert isinstance(posted["service_request_id"], int)
    assert isinstance(posted["token"], str) and posted["account_id"] is None
    [item] = client.get(url(f"/requests/{posted['service_request_id']}.json")).json()
    assert isinstance(item["lat"], float) and isinstance(item["long"], float)
    assert item["zipcode"] is None and item["status_notes"] is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_with_an_address_only(client: TestClient, catalogue: Database, fmt: str) -> None:
    _, secret = make_key(catalogue)
    address = "Xóm Mít, xã Tú Lý, huyện Đà Bắc, Hòa Bình"
    response = post(client, fmt, secret, service_code="road", address_string=address)
    assert response.status_code == 200, response.text
    [posted] = read(response, fmt, "service_requests")
    req = _stored(catalogue, int(posted["service_request_id"]))
    assert (req.lat, req.lon, req.place_code, req.agency_code) == (
        None,
        None,
        TU_LY_CODE,
        "UBND-150",
    )
    [item] = read(client.get(url(f"/requests/{req.id}.{fmt}")), fmt, "service_requests")
    assert item["address"] == address
    assert item["lat"] is None and item["long"] is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"attribute[kind][]": ["air", "noise"]}, ["air", "noise"]),
        ({"attribute[kind][]": "smell"}, ["smell"]),
        ({"attribute[kind]": ["water", "smell"]}, ["water", "smell"]),
    ],
)
def test_multivaluelist_attributes(
    client: TestClient, catalogue: Database, fields: dict[str, object], expected: list[str]
) -> None:
    _, secret = make_key(catalogue)
    response = post(
        client,
        "json",
        secret,
        service_code="pollution",
        lat=str(TU_LY[0]),
        long=str(TU_LY[1]),
        **fields,
    )
    assert response.status_code == 200, response.text
    req = _stored(catalogue, response.json()[0]["service_request_id"])
    assert req.attributes == {"kind": expected}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_likely_duplicate_is_named_in_the_notice(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    _, secret = make_key(catalogue)
    point = {"lat": str(TU_LY[0]), "long": str(TU_LY[1])}
    first = post(client, "json", secret, service_code="road", **point).json()[0]
    near = {"lat": str(TU_LY[0] + 0.0003), "long": str(TU_LY[1])}  # about 33 m north
    [second] = read(post(client, fmt, secret, service_code="road", **near), fmt, "service_requests")
    first_id = first["service_request_id"]
    assert f"trùng phản ánh số {first_id}" in second["service_notice"]
    assert f"duplicate of request {first_id}" in second["service_notice"]
    assert _stored(catalogue, int(second["service_request_id"])).likely_duplicate_of == first_id


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_gives_the_request_id(client: TestClient, catalogue: Database, fmt: str) -> None:
    _, secret = make_key(catalogue)
    posted = post(client, "json", secret, service_code="waste", address_string="xã Tú Lý").json()[0]
    response = client.get(url(f"/tokens/{posted['token']}.{fmt}"))
    assert response.status_code == 200
    [item] = read(response, fmt, "service_requests")
    assert set(item) == TOKEN_KEYS
    assert item == {
        "service_request_id": str(posted["service_request_id"]),
        "token": posted["token"],
    }
    assert_error(client.get(url(f"/tokens/not-a-token.{fmt}")), fmt, 404, "token")


def test_no_contact_detail_in_any_response(client: TestClient, catalogue: Database) -> None:
    _, secret = make_key(catalogue)
    bodies = []
    for fmt in FORMATS:
        response = post(
            client,
            fmt,
            secret,
            service_code="tree",
            lat=str(TU_LY[0]),
            long=str(TU_LY[1]),
            **CONTACT,
        )
        assert response.status_code == 200, response.text
        bodies.append(response.text)
    token = post(client, "json", secret, service_code="tree", address_string="xã Tú Lý", **CONTACT)
    posted = token.json()[0]
    bodies.append(token.text)
    for fmt in FORMATS:
        for path in (
            f"/requests.{fmt}",
            f"/requests/{posted['service_request_id']}.{fmt}",
            f"/tokens/{posted['token']}.{fmt}",
            f"/requests.{fmt}?service_request_id={posted['service_request_id']}",
        ):
            response = client.get(url(path))
            assert response.status_code == 200
            bodies.append(response.text)
    for body in bodies:
        for name, value in CONTACT.items():
            assert value not in body, (name, body)
        assert "first_name" not in body and "email" not in body and "phone" not in body
        assert secret not in body


def test_posts_take_the_lean_route_and_the_rest_the_router(client: TestClient) -> None:
    """``POST requests`` skips FastAPI's machinery; its other methods and its docs do not."""
    routes = client.app.router.routes  # type: ignore[attr-defined]

    def first_full_match(method: str) -> object:
        scope = {"type": "http", "method": method, "path": url("/requests.json")}
        return next(r for r in routes if r.matches(scope)[0] is Match.FULL)

    assert first_full_match("POST") is open311.post_route
    assert first_full_match("GET") is not open311.post_route  # the router's, past the lean one
    assert client.get(url("/requests.json")).status_code == 200
    described = client.get("/openapi.json").json()["paths"]["/open311/v2/requests.{fmt}"]
    assert {"get", "post"} <= set(described)
    assert "application/x-www-form-urlencoded" in described["post"]["requestBody"]["content"]


def test_multipart_posts_are_read_too_and_urlencoded_unicode_survives(
    client: TestClient, catalogue: Database
) -> None:
    """Clients that send multipart forms work; percent-encoded Vietnamese arrives intact."""
    _, secret = make_key(catalogue)
    fields = {"api_key": secret, "service_code": "road", "lat": str(TU_LY[0])}
    fields |= {"long": str(TU_LY[1]), "description": "Đèn đường hỏng ở ngõ 5"}
    multipart = client.post(url("/requests.json"), files={"media": (None, "")}, data=fields)
    assert multipart.status_code == 200, multipart.text
    urlencoded = client.post(url("/requests.json"), data=fields)
    assert urlencoded.status_code == 200, urlencoded.text
    for answer in (multipart, urlencoded):
        [posted] = read(answer, "json", "service_requests")
        assert _stored(catalogue, posted["service_request_id"]).description == (
            "Đèn đường hỏng ở ngõ 5"
        )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_form_that_is_not_utf8_or_has_too_many_fields_is_400(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    _, secret = make_key(catalogue)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    latin1 = f"api_key={secret}&service_code=road&description=".encode() + "Đà".encode("cp1258")
    answer = client.post(url(f"/requests.{fmt}"), content=latin1, headers=headers)
    assert_error(answer, fmt, 400, "UTF-8")
    crowded = "&".join(f"attribute[x{i}]=1" for i in range(300))
    answer = client.post(url(f"/requests.{fmt}"), content=crowded, headers=headers)
    assert_error(answer, fmt, 400, "form fields")
