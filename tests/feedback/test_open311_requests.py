"""Open311 GET requests: filters, the 90-day window, the 1,000 cap, newest first, both formats.

The demo database holds simulated feedback of recent weeks, so these tests put their own
requests in 2021 and ask for that window, or check only the requests they made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import pytest
from sqlalchemy import insert, select
from starlette.testclient import TestClient

from ioc.core.db import Database, utcnow
from ioc.feedback.models import OPEN_STATUSES, STATUSES, FeedbackRequest
from tests.feedback.open311_support import (
    FORMATS,
    REQUEST_KEYS,
    TU_LY,
    assert_error,
    read,
    seed_request,
    url,
)

UTC = dt.UTC
MARCH = {"start_date": "2021-02-20T00:00:00+07:00", "end_date": "2021-04-01T00:00:00+07:00"}


def day(month: int, day: int) -> dt.datetime:
    return dt.datetime(2021, month, day, 3, 0, tzinfo=UTC)  # 10:00 in Hòa Bình


@pytest.fixture
def march(catalogue: Database) -> dict[str, int]:
    """Four requests of March 2021: two settled (closed), two open."""
    return {
        "a": seed_request(catalogue, "road", requested_at=day(3, 1)),
        "b": seed_request(catalogue, "waste", requested_at=day(3, 5), settle=True),
        "c": seed_request(catalogue, "road", requested_at=day(3, 10), settle=True),
        "d": seed_request(catalogue, "tree", requested_at=day(3, 15), address="xã Tú Lý"),
    }


def ids(client: TestClient, fmt: str, **params: str) -> list[int]:
    response = client.get(url(f"/requests.{fmt}"), params=params)
    assert response.status_code == 200, response.text
    items = read(response, fmt, "service_requests")
    assert all(set(item) == REQUEST_KEYS for item in items)
    return [int(item["service_request_id"]) for item in items]


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters(client: TestClient, march: dict[str, int], fmt: str) -> None:
    a, b, c, d = (march[k] for k in "abcd")
    assert ids(client, fmt, **MARCH) == [d, c, b, a]  # newest first
    assert ids(client, fmt, **MARCH, status="open") == [d, a]
    assert ids(client, fmt, **MARCH, status="closed") == [c, b]
    assert ids(client, fmt, **MARCH, status="open,closed") == [d, c, b, a]
    assert ids(client, fmt, **MARCH, service_code="road") == [c, a]
    assert ids(client, fmt, **MARCH, service_code="road, waste") == [c, b, a]
    assert ids(client, fmt, **MARCH, service_code="road", status="closed") == [c]
    # one end given: the window runs 90 days from it
    assert ids(client, fmt, start_date="2021-03-04T00:00:00Z") == [d, c, b]
    assert ids(client, fmt, end_date="2021-03-06T00:00:00+07:00") == [b, a]
    # an offset-less date-time is Vietnam's time: 10:00 on 1 March is inside, 09:59 is not
    assert ids(client, fmt, start_date="2021-03-01T10:00:00", end_date="2021-03-02") == [a]
    assert ids(client, fmt, start_date="2021-03-01T10:00:01", end_date="2021-03-02") == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_fields(client: TestClient, march: dict[str, int], fmt: str) -> None:
    response = client.get(url(f"/requests.{fmt}"), params={**MARCH, "status": "closed"})
    closed, _ = read(response, fmt, "service_requests")
    assert closed["service_request_id"] == str(march["c"])
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Đã vá xong / Repaired"
    assert closed["requested_datetime"] == "2021-03-10T10:00:00+07:00"
    assert closed["agency_responsible"] == "UBND huyện Đà Bắc"
    assert closed["zipcode"] is None
    [tree] = read(
        client.get(url(f"/requests.{fmt}"), params={**MARCH, "service_code": "tree"}),
        fmt,
        "service_requests",
    )
    assert tree["address"] == "xã Tú Lý" and tree["service_name"] == "Cây xanh, công viên"


@pytest.mark.parametrize("fmt", FORMATS)
def test_ids_override_every_other_filter(
    client: TestClient, march: dict[str, int], fmt: str
) -> None:
    a, d = march["a"], march["d"]
    others = {"status": "closed", "service_code": "waste", "start_date": "2030-01-01T00:00:00Z"}
    assert ids(client, fmt, service_request_id=f"{a}, {d}", **others) == [d, a]
    assert ids(client, fmt, service_request_id=str(a), start_date="not even a date") == [a]
    assert ids(client, fmt, service_request_id="999999") == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"service_request_id": "1,abc"}, "service_request_id"),
        ({"service_code": "road,khong-co"}, "service_code"),
        ({"status": "pending"}, "status"),
        ({"start_date": "01/03/2021"}, "start_date"),
        ({"end_date": "2021-13-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2021-03-10T00:00:00Z", "end_date": "2021-03-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2021-01-01T00:00:00Z", "end_date": "2021-04-02T00:00:00Z"}, "90 days"),
    ],
)
def test_bad_filters_are_400(
    client: TestClient, catalogue: Database, fmt: str, params: dict[str, str], word: str
) -> None:
    assert_error(client.get(url(f"/requests.{fmt}"), params=params), fmt, 400, word)


def test_a_window_of_exactly_90_days_is_allowed(client: TestClient, march: dict[str, int]) -> None:
    params = {"start_date": "2021-01-01T00:00:00Z", "end_date": "2021-04-01T00:00:00Z"}
    assert ids(client, "json", **params) == [march[k] for k in "dcba"]


def test_an_offset_sent_unencoded_still_counts(client: TestClient, march: dict[str, int]) -> None:
    # "+07:00" written raw in a query string arrives as " 07:00"
    raw = url(
        "/requests.json?start_date=2021-03-15T10:00:00+07:00&end_date=2021-03-16T00:00:00+07:00"
    )
    response = client.get(raw)
    assert [r["service_request_id"] for r in response.json()] == [march["d"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_default_window_is_the_last_90_days(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    now = utcnow()
    recent = seed_request(catalogue, "road", requested_at=now - dt.timedelta(seconds=1))
    old = seed_request(catalogue, "road", requested_at=now - dt.timedelta(days=91))
    items = read(client.get(url(f"/requests.{fmt}")), fmt, "service_requests")
    found = [int(i["service_request_id"]) for i in items]
    assert recent in found and old not in found
    earliest = (now - dt.timedelta(days=90)).astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert all(i["requested_datetime"] >= earliest.isoformat(timespec="seconds") for i in items)
    start = (now - dt.timedelta(days=100)).isoformat()
    assert old in ids(client, fmt, start_date=start)


def _bulk(database: Database, start: dt.datetime, statuses: tuple[str, ...], count: int) -> None:
    rows = [
        {
            "service_code": "road",
            "channel": "web",
            "description": f"Phản ánh số {i}",
            "lat": TU_LY[0],
            "lon": TU_LY[1],
            "place_code": "04867",
            "agency_code": "UBND-150",
            "status": statuses[i % len(statuses)],
            "requested_at": start + dt.timedelta(minutes=i),
            "updated_at": start + dt.timedelta(minutes=i),
            "expected_at": start + dt.timedelta(days=14),
            "token_hash": hashlib.sha256(f"bulk {start} {i}".encode()).hexdigest(),
            "email": "bulk.private@example.vn",
            "phone": "0900000000",
            "created_by": "test",
            "attributes": {},
        }
        for i in range(count)
    ]
    with database.session("test") as session:
        session.execute(insert(FeedbackRequest), rows)


def _window_ids(database: Database, start: dt.datetime, end: dt.datetime) -> list[int]:
    stmt = (
        select(FeedbackRequest.id)
        .where(FeedbackRequest.requested_at.between(start, end))
        .order_by(FeedbackRequest.requested_at.desc())
    )
    with database.session() as session:
        return list(session.scalars(stmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_open_and_closed_cover_every_status(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    start = dt.datetime(2021, 9, 1, tzinfo=UTC)
    _bulk(catalogue, start, STATUSES, len(STATUSES))
    window = {
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=1)).isoformat(),
    }
    items = read(client.get(url(f"/requests.{fmt}"), params=window), fmt, "service_requests")
    by_description = {i["description"]: i["status"] for i in items}
    expected = {
        f"Phản ánh số {i}": "open" if s in OPEN_STATUSES else "closed"
        for i, s in enumerate(STATUSES)
    }
    assert by_description == expected
    assert len(ids(client, fmt, **window, status="open")) == len(OPEN_STATUSES)
    assert len(ids(client, fmt, **window, status="closed")) == len(STATUSES) - len(OPEN_STATUSES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_at_most_1000_newest_first_and_quickly(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    start = dt.datetime(2021, 6, 1, tzinfo=UTC)
    end = start + dt.timedelta(days=2)
    _bulk(catalogue, start, ("received", "resolved"), 1005)
    expected = _window_ids(catalogue, start, end)[:1000]
    params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "status": "open,closed"}
    client.get(url(f"/requests.{fmt}"), params=params)  # warm up
    began = time.perf_counter()
    response = client.get(url(f"/requests.{fmt}"), params=params)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200
    items = read(response, fmt, "service_requests")
    assert [int(i["service_request_id"]) for i in items] == expected
    assert items[0]["description"] == "Phản ánh số 1004"
    assert items[-1]["description"] == "Phản ánh số 5"
    assert "bulk.private@example.vn" not in response.text and "0900000000" not in response.text
    assert elapsed < 2.0, f"1,000 requests as {fmt} took {elapsed:.2f} s"
