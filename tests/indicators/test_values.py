"""Reported values: draft → submitted → approved / returned, scope, and the audit trail."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from ioc.core.db import Database
from ioc.core.models import AuditEntry
from tests.indicators.conftest import districts, last_quarter, province

NEXT_YEAR_Q = "2031-Q1"  # a quarter with nothing stored yet


def _places(demo_db: Database) -> tuple[str, str, str]:
    with demo_db.session() as session:
        found = districts(session)
        dabac = next(p.code for p in found if p.short_name == "Đà Bắc")
        other = next(p.code for p in found if p.short_name != "Đà Bắc")
        return province(session).code, dabac, other


def test_workflow_counts_only_approved_values_and_is_audited(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    prov, dabac, _ = _places(demo_db)
    staff, leader = auth("sotttt"), auth("lanhdao")
    body = {"indicator_code": "VT-BTS", "place_code": dabac, "period": NEXT_YEAR_Q, "value": 97.5}
    created = client.post("/api/v1/indicators/values", json=body, headers=staff)
    assert created.status_code == 200, created.text
    value = created.json()
    assert value["status"] == "draft" and value["agency_code"] == "STTTT"
    url = f"/api/v1/indicators/VT-BTS/values?period={NEXT_YEAR_Q}&place={prov}"

    def shown() -> float | None:
        children = client.get(url, headers=leader).json()["children"]
        return next(c["value"] for c in children if c["place_code"] == dabac)

    assert shown() is None  # a draft does not count
    vid = value["id"]
    # A leader cannot approve a draft; the agency cannot approve its own value.
    assert (
        client.post(f"/api/v1/indicators/values/{vid}/approve", headers=leader).status_code == 409
    )
    submitted = client.post(f"/api/v1/indicators/values/{vid}/submit", headers=staff)
    assert submitted.json()["status"] == "submitted"
    assert client.post(f"/api/v1/indicators/values/{vid}/approve", headers=staff).status_code == 403
    returned = client.post(
        f"/api/v1/indicators/values/{vid}/return", json={"note": "kiểm tra lại"}, headers=leader
    )
    assert returned.json()["status"] == "returned"
    assert returned.json()["review_note"] == "kiểm tra lại"
    body["value"] = 96.5
    redraft = client.post("/api/v1/indicators/values", json=body, headers=staff)
    assert redraft.json()["status"] == "draft" and redraft.json()["id"] == vid
    client.post(f"/api/v1/indicators/values/{vid}/submit", headers=staff)
    approved = client.post(f"/api/v1/indicators/values/{vid}/approve", headers=leader)
    assert approved.json()["status"] == "approved"
    assert shown() == 96.5
    # Approved is final: a new entry of the same cell is refused.
    assert (
        client.post(
            "/api/v1/indicators/values", json=body | {"value": 1.0}, headers=staff
        ).status_code
        == 409
    )
    with demo_db.session() as session:
        trail = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "indicator_values", AuditEntry.entity_id == str(vid))
                .order_by(AuditEntry.id)
            )
        )
    statuses = [(e.after or {}).get("status") for e in trail]
    assert statuses == ["draft", "submitted", "returned", "draft", "submitted", "approved"]
    assert {e.actor for e in trail} == {"user:sotttt", "user:lanhdao"}


def test_an_agency_enters_only_its_own_indicators_in_its_own_places(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    _, dabac, other = _places(demo_db)

    def enter(user: str, code: str, place: str) -> int:
        body = {"indicator_code": code, "place_code": place, "period": NEXT_YEAR_Q, "value": 1}
        return client.post("/api/v1/indicators/values", json=body, headers=auth(user)).status_code

    assert enter("sotttt", "GRDP", dabac) == 403  # the Department of Planning's indicator
    assert enter("sotttt", "VT-CAPQUANG", dabac) == 200
    assert enter("dabac", "YT-GIUONG", other) == 403  # outside Đà Bắc
    assert enter("dabac", "YT-GIUONG", dabac) == 200
    assert enter("sotttt", "PAKN-XULY", dabac) == 422  # computed, not reported
    assert enter("congdan", "VT-CAPQUANG", dabac) == 403
    bad_period = {
        "indicator_code": "VT-CAPQUANG",
        "place_code": dabac,
        "period": "2031-02",
        "value": 1,
    }
    assert (
        client.post(
            "/api/v1/indicators/values", json=bad_period, headers=auth("sotttt")
        ).status_code
        == 422
    )
    unauth = client.post("/api/v1/indicators/values", json=bad_period)
    assert unauth.status_code == 401
    assert unauth.headers["content-type"].startswith("application/problem+json")


def test_drill_rank_and_trend_agree_with_the_stored_values(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    period = last_quarter()
    leader = auth("lanhdao")
    drill = client.get(f"/api/v1/indicators/GRDP/values?period={period}", headers=leader).json()
    values = [c["value"] for c in drill["children"]]
    assert len(values) >= 10 and all(v is not None for v in values)
    assert drill["place"]["value"] == round(sum(values), 2)  # GRDP sums up
    bts = client.get(f"/api/v1/indicators/VT-BTS/values?period={period}", headers=leader).json()
    means = [c["value"] for c in bts["children"]]
    assert bts["place"]["value"] == round(sum(means) / len(means), 2)  # coverage averages
    ranked = client.get(f"/api/v1/indicators/GRDP/rank?period={period}", headers=leader).json()
    assert [r["value"] for r in ranked] == sorted(values, reverse=True)
    trend = client.get(f"/api/v1/indicators/GRDP/trend?period={period}", headers=leader).json()
    assert len(trend) == 8 and all(t["value"] for t in trend)
    assert trend[-1]["value"] == drill["place"]["value"]
    assert trend[0]["value"] < trend[-1]["value"]  # the demo grows
    # Drill further: a district's communes (GRDP is kept by district, so they have none).
    first = drill["children"][0]["place_code"]
    down = client.get(
        f"/api/v1/indicators/GRDP/values?period={period}&place={first}", headers=leader
    ).json()
    assert down["place"]["value"] == drill["children"][0]["value"]
    assert down["children"] and all(c["value"] is None for c in down["children"])
    assert (
        client.get("/api/v1/indicators/NOPE/rank?period=2025-Q3", headers=leader).status_code == 404
    )
    assert (
        client.get("/api/v1/indicators/GRDP/rank?period=2025-Q9", headers=leader).status_code == 422
    )
