"""Helpers for the HTTP tests: problem+json checks and a few demo facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

PROBLEM = "application/problem+json"
DA_BAC = "150"
TP_HOA_BINH = "148"

Problem = Callable[..., dict[str, Any]]


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem of ``status`` (naming ``field``, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


@pytest.fixture
def problem() -> Problem:
    return assert_problem


@pytest.fixture
def admin(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("admin")


@pytest.fixture
def da_bac_codes(client: TestClient) -> set[str]:
    """Đà Bắc and its communes: every place a user scoped to the district may see."""
    communes = client.get(f"/api/v1/places/{DA_BAC}/children").json()
    return {DA_BAC} | {c["code"] for c in communes}
