"""Open311 errors: the spec's shape and HTTP code in JSON and XML, and nothing stored after one."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.testclient import TestClient

from ioc.core.db import Database, utcnow
from ioc.core.models import ApiKey
from ioc.feedback import open311
from ioc.feedback.open311_format import exception_response
from tests.feedback.open311_support import (
    FORMATS,
    TU_LY,
    assert_error,
    make_key,
    post,
    stored,
    url,
)

POINT = {"lat": str(TU_LY[0]), "long": str(TU_LY[1])}

ROAD = {"service_code": "road", **POINT}
# (what is wrong, form fields, the word the description must hold)
BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("unknown service", {"service_code": "khong-co", **POINT}, "service_code"),
    ("no service", {**POINT}, "service_code"),
    ("no location", {"service_code": "road"}, "lat"),
    ("lat without long", {"service_code": "road", "lat": "20.9"}, "long"),
    ("outside the province", {"service_code": "road", "lat": "10.7769", "long": "106.7009"}, "lat"),
    ("lat not a number", {"service_code": "road", "lat": "hai mươi", "long": "105.2"}, "lat"),
    ("long not finite", {"service_code": "road", "lat": "20.9", "long": "nan"}, "long"),
    ("description too long", {**ROAD, "description": "x" * 4001}, "description"),
    ("bad attribute value", {**ROAD, "attribute[road_type]": "highway"}, "attribute[road_type]"),
    ("unknown attribute", {**ROAD, "attribute[colour]": "red"}, "attribute[colour]"),
    ("required attribute missing", {"service_code": "streetlight", **POINT}, "attribute[problem]"),
    (
        "two values for a one-value list",
        {"service_code": "flood", **POINT, "attribute[severity][]": ["watch", "damage"]},
        "attribute[severity]",
    ),
    ("media_url not http", {**ROAD, "media_url": "ftp://example.vn/a.jpg"}, "media_url"),
    ("media_url without a host", {**ROAD, "media_url": "http://"}, "media_url"),
    ("point in central Hà Nội", {**ROAD, "lat": "21.03", "long": "105.85"}, "lat"),
    ("email too long", {**ROAD, "email": "a" * 200 + "@example.vn"}, "email"),
]


@pytest.fixture
def secret(catalogue: Database) -> str:
    return make_key(catalogue)[1]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("case", "fields", "word"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_400_and_stores_nothing(
    client: TestClient,
    catalogue: Database,
    secret: str,
    fmt: str,
    case: str,
    fields: dict[str, Any],
    word: str,
) -> None:
    before = stored(catalogue)
    assert_error(post(client, fmt, secret, **fields), fmt, 400, word)
    assert stored(catalogue) == before


@pytest.fixture
def revoked(catalogue: Database) -> str:
    key_id, secret = make_key(catalogue, "revoked")
    with catalogue.session() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
    return secret


@pytest.fixture
def expired(catalogue: Database) -> str:
    key_id, secret = make_key(catalogue, "expired")
    past = utcnow() - dt.timedelta(days=1)
    with catalogue.session() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(expires_at=past))
    return secret


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", ["missing", "empty", "unknown", "forged", "revoked", "expired"])
def test_bad_api_key_is_403(
    client: TestClient,
    catalogue: Database,
    secret: str,
    revoked: str,
    expired: str,
    fmt: str,
    which: str,
) -> None:
    keys = {
        "missing": None,
        "empty": "",
        "unknown": "not-an-ioc-key",
        "forged": secret[:-4] + "AAAA",
        "revoked": revoked,
        "expired": expired,
    }
    before = stored(catalogue)
    response = post(client, fmt, keys[which], service_code="road", **POINT)
    description = assert_error(response, fmt, 403, "api_key")
    assert "revoked" in description if which == "revoked" else True
    assert "expired" in description if which == "expired" else True
    assert "WWW-Authenticate" not in response.headers
    assert stored(catalogue) == before


def test_api_key_header_alone_does_not_submit(
    client: TestClient, catalogue: Database, secret: str
) -> None:
    response = client.post(
        url("/requests.json"), data={"service_code": "road", **POINT}, headers={"X-API-Key": secret}
    )
    assert_error(response, "json", 403, "api_key")


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_jurisdiction_is_404_and_stores_nothing(
    app_factory: Callable[..., TestClient], catalogue: Database, secret: str, fmt: str
) -> None:
    client = app_factory(open311_jurisdiction="hoabinh.gov.vn")
    before = stored(catalogue)
    wrong = post(client, fmt, secret, jurisdiction_id="hanoi.gov.vn", service_code="road", **POINT)
    assert_error(wrong, fmt, 404, "jurisdiction_id")
    assert stored(catalogue) == before
    right = post(
        client, fmt, secret, jurisdiction_id="hoabinh.gov.vn", service_code="road", **POINT
    )
    assert right.status_code == 200, right.text


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "streamed"])
def test_oversized_body_is_413_in_the_open311_shape(
    app_factory: Callable[..., TestClient],
    catalogue: Database,
    secret: str,
    fmt: str,
    streamed: bool,
) -> None:
    client = app_factory(max_body_bytes=2048)
    before = stored(catalogue)
    body = f"api_key={secret}&service_code=road&lat=20.895151&long=105.248737&description="
    body += "x" * 3000

    def chunks() -> Iterator[bytes]:
        data = body.encode()
        for start in range(0, len(data), 512):
            yield data[start : start + 512]

    response = client.post(
        url(f"/requests.{fmt}"),
        content=chunks() if streamed else body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, fmt, 413, "2,048")
    assert stored(catalogue) == before
    # the rest of the API keeps problem+json
    other = client.post("/api/v1/auth/token", content=body.encode())
    assert other.status_code == 413
    assert other.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("fmt", FORMATS)
def test_posts_per_address_are_limited(
    app_factory: Callable[..., TestClient], catalogue: Database, fmt: str
) -> None:
    client = app_factory(open311_posts_per_minute_ip=3)
    secrets = [make_key(catalogue, f"app {i}")[1] for i in range(4)]
    for secret in secrets[:3]:
        assert post(client, fmt, secret, service_code="waste", **POINT).status_code == 200
    before = stored(catalogue)
    response = post(client, fmt, secrets[3], service_code="waste", **POINT)
    assert_error(response, fmt, 429, "address", "3")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert stored(catalogue) == before
    # reading is not limited
    assert client.get(url(f"/requests.{fmt}")).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_posts_per_key_are_limited(
    app_factory: Callable[..., TestClient], catalogue: Database, fmt: str
) -> None:
    client = app_factory(open311_posts_per_minute_key=2)
    _, busy = make_key(catalogue, "busy app")
    _, other = make_key(catalogue, "other app")
    for _ in range(2):
        assert post(client, fmt, busy, service_code="waste", **POINT).status_code == 200
    response = post(client, fmt, busy, service_code="waste", **POINT)
    assert_error(response, fmt, 429, "API key")
    assert int(response.headers["Retry-After"]) >= 1
    assert post(client, fmt, other, service_code="waste", **POINT).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_request_unknown_id_is_404(client: TestClient, catalogue: Database, fmt: str) -> None:
    assert_error(client.get(url(f"/requests/999999.{fmt}")), fmt, 404, "service_request_id")
    assert_error(client.get(url(f"/requests/abc.{fmt}")), fmt, 404, "service_request_id")


@pytest.mark.parametrize("fmt", FORMATS)
def test_posts_beyond_the_gate_are_refused_with_503_and_store_nothing(
    app_factory: Callable[..., TestClient],
    catalogue: Database,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    """With every slot taken past the wait, a POST is answered 503 at once, not queued."""
    monkeypatch.setattr(open311, "POST_SLOTS", 1)
    monkeypatch.setattr(open311, "POST_WAIT_SECONDS", 0.1)
    inside, release = threading.Event(), threading.Event()
    store = open311._store

    def held_store(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert release.wait(10)
        return store(*args, **kwargs)

    monkeypatch.setattr(open311, "_store", held_store)
    client = app_factory()
    _, secret = make_key(catalogue)
    before = stored(catalogue)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, client, fmt, secret, service_code="waste", **POINT)
        assert inside.wait(10)
        refused = post(client, fmt, secret, service_code="waste", **POINT)
        assert_error(refused, fmt, 503, "too busy")
        assert refused.headers["Retry-After"] == "1"
        assert stored(catalogue) == before
        release.set()
        assert first.result(10).status_code == 200
    assert stored(catalogue)[0] == before[0] + 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_exhausted_connection_pool_is_a_503(fmt: str) -> None:
    response = exception_response(fmt, PoolTimeout("QueuePool limit reached"))  # type: ignore[arg-type]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.body.decode()
    assert "503" in body and "too busy" in body
