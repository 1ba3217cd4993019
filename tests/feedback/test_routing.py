"""Routing a report to who handles it, and spotting likely duplicates; the catalogue command."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, event
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ioc.cli import app as cli_app
from ioc.core import places
from ioc.core.db import Database
from ioc.core.models import Agency
from ioc.core.problems import Invalid
from ioc.feedback import service
from ioc.feedback.models import OPEN_STATUSES, OPEN_WHERE, FeedbackRequest, FeedbackService

from .queue_support import (
    FEEDBACK,
    HUU_NGHI,
    HUU_NGHI_CODE,
    TU_LY,
    TU_LY_CODE,
    add,
    get,
    local,
)

Auth = Callable[..., dict[str, str]]


def _routed(database: Database, rid: int) -> tuple[str | None, str | None]:
    req = get(database, rid)
    return req.place_code, req.agency_code


def _moved(point: tuple[float, float], north_m: float) -> tuple[float, float]:
    return point[0] + north_m / 111_320, point[1]


def test_a_district_service_goes_to_the_district_committee(queue_db: Database) -> None:
    rid, _ = add(queue_db, "waste", point=TU_LY)  # waste: handled by the district
    assert _routed(queue_db, rid) == (TU_LY_CODE, "UBND-150")
    rid, _ = add(queue_db, "streetlight", point=HUU_NGHI, attributes={"problem": "off"})
    assert _routed(queue_db, rid) == (HUU_NGHI_CODE, "UBND-148")


def test_a_department_service_goes_to_its_department(queue_db: Database) -> None:
    rid, _ = add(queue_db, "telecom", point=TU_LY)
    assert _routed(queue_db, rid) == (TU_LY_CODE, "STTTT")
    rid, _ = add(queue_db, "health", point=HUU_NGHI)
    assert _routed(queue_db, rid) == (HUU_NGHI_CODE, "SYT")


def test_routing_by_address_alone(queue_db: Database) -> None:
    rid, _ = add(queue_db, "waste", point=None, address="Xóm Mớ, xã Tú Lý, huyện Đà Bắc")
    assert _routed(queue_db, rid) == (TU_LY_CODE, "UBND-150")
    # Without diacritics, as SMS are often typed.
    rid, _ = add(queue_db, "waste", point=None, address="xom Mo, xa Tu Ly, Da Bac")
    assert _routed(queue_db, rid) == (TU_LY_CODE, "UBND-150")
    # An address naming no commune: the department that owns the service handles it.
    rid, _ = add(queue_db, "waste", point=None, address="gần chợ, cạnh nhà văn hóa")
    assert _routed(queue_db, rid) == (None, "STNMT")


def test_a_point_outside_the_province_is_refused(queue_db: Database) -> None:
    with queue_db.session() as session, pytest.raises(service.Invalid) as exc:
        service.submit(
            session, service.Submission("waste", "rác", "web", lat=16.0544, lon=108.2022)
        )  # Đà Nẵng
    assert exc.value.field == "lat"


def test_likely_duplicate_within_radius_and_days_only(queue_db: Database) -> None:
    at = local(2026, 3, 2, 9)
    first, _ = add(queue_db, "waste", at=at)
    near = _moved(TU_LY, 60)
    far = _moved(TU_LY, -160)  # south, 220 m from the near one
    assert 55 < service.distance_m(*TU_LY, *near) < 65
    assert 155 < service.distance_m(*TU_LY, *far) < 165
    cases = [
        ("waste", near, at + dt.timedelta(days=2), first),  # 60 m, two days later
        ("waste", far, at + dt.timedelta(days=2), None),  # beyond 100 m
        ("waste", TU_LY, at + dt.timedelta(days=10), None),  # 8 days after the near one
        ("telecom", TU_LY, at + dt.timedelta(hours=1), None),  # another service
        ("waste", TU_LY, at - dt.timedelta(days=1), None),  # an earlier report (back-dated)
    ]
    ids = []
    for service_code, point, when, expected in cases:
        rid, _ = add(queue_db, service_code, point=point, at=when)
        ids.append(rid)
        assert get(queue_db, rid).likely_duplicate_of == expected, (service_code, point, when)
    # A wider rule (as IOC_FEEDBACK_DUPLICATE_RADIUS_M sets it) reaches farther; the nearest
    # open candidate wins.
    wide = service.DuplicateRule(radius_m=200, days=7)
    south = _moved(TU_LY, -150)  # 10 m from the far one, 150 m from the first
    rid, _ = add(queue_db, "waste", point=south, at=at + dt.timedelta(days=3), rule=wide)
    assert get(queue_db, rid).likely_duplicate_of == ids[1]
    east = (TU_LY[0], TU_LY[1] + 150 / (111_320 * math.cos(math.radians(TU_LY[0]))))
    rid, _ = add(queue_db, "waste", point=east, at=at + dt.timedelta(days=3), rule=wide)
    assert get(queue_db, rid).likely_duplicate_of == first  # 150 m; the near one is 162 m


def test_a_settled_report_is_no_longer_a_duplicate_target(queue_db: Database) -> None:
    first, _ = add(queue_db, "waste")
    with queue_db.session() as session:
        req = session.get(FeedbackRequest, first)
        assert req is not None
        service.transition(session, req, "in_progress")
        service.transition(session, req, "resolved", note="đã thu gom")
    rid, _ = add(queue_db, "waste")
    assert get(queue_db, rid).likely_duplicate_of is None


def test_hotline_call_is_routed_and_flags_a_duplicate(
    client: TestClient, queue_db: Database, auth: Auth
) -> None:
    first, _ = add(queue_db, "waste")
    call = {
        "service_code": "waste",
        "description": "Bãi rác tự phát cạnh đường vào xã",
        "lat": TU_LY[0],
        "lon": TU_LY[1] + 20 / (111_320 * math.cos(math.radians(TU_LY[0]))),  # 20 m east
        "first_name": "Văn Bình",
        "last_name": "Đinh",
        "phone": "0912000111",
    }
    r = client.post(f"{FEEDBACK}/hotline", json=call, headers=auth("vanhanh"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["likely_duplicate_of"] == first and body["token"]
    req = body["request"]
    assert (req["channel"], req["place_code"], req["agency_code"]) == (
        "hotline",
        TU_LY_CODE,
        "UBND-150",
    )
    assert req["contact"]["phone"] == "0912000111"
    assert req["created_by"] == "user:vanhanh"
    by_address = client.post(
        f"{FEEDBACK}/hotline",
        json={
            "channel": "petition",
            "service_code": "land",
            "description": "Đơn đề nghị giải quyết tranh chấp đất",
            "address": "xã Tú Lý, huyện Đà Bắc",
        },
        headers=auth("vanhanh"),
    )
    assert by_address.status_code == 201, by_address.text
    assert by_address.json()["request"]["agency_code"] == "UBND-150"
    for user in ("dabac", "sotttt", "lanhdao"):  # logging calls is the IOC room's job
        assert client.post(f"{FEEDBACK}/hotline", json=call, headers=auth(user)).status_code == 403
    assert client.post(f"{FEEDBACK}/hotline", json=call).status_code == 401


def test_catalogue_command_seeds_and_lists(
    monkeypatch: pytest.MonkeyPatch, demo_db: Database
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    result = CliRunner().invoke(cli_app, ["feedback", "catalogue"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "telecom" in out and "STTTT" in out and "streetlight" in out
    with demo_db.session() as session:
        assert service.get_service(session, "waste").agency_code == "STNMT"
    again = CliRunner().invoke(cli_app, ["feedback", "catalogue"])
    assert again.exit_code == 0 and "(0 changes)" in again.output


def test_points_outside_the_communes_are_refused_even_inside_the_province_box(
    queue_db: Database,
) -> None:
    """Hòa Bình's bounding box holds central Hà Nội; its communes' boxes do not."""
    with queue_db.session() as s:
        for lat, lon in ((21.03, 105.85), (10.78, 106.70), (21.08, 105.40)):
            with pytest.raises(Invalid) as err:
                service.place_for_point(s, lat, lon)
            assert err.value.field == "lat" and "outside" in err.value.detail
        assert service.place_for_point(s, 20.8395, 105.1725).code.startswith("0")


def test_routing_and_the_catalogue_follow_changes_made_elsewhere(queue_db: Database) -> None:
    """The in-memory copies of agencies and the catalogue see another process's writes."""
    other = Database(queue_db.url)  # as a CLI or another server would reach the database
    tu_ly_committee = f"UBND-{TU_LY_CODE}"
    try:
        rid, _ = add(queue_db, "telecom", point=TU_LY)  # also warms this process's copies
        assert _routed(queue_db, rid) == (TU_LY_CODE, "STTTT")
        with other.session("test") as s:  # telecom now goes to the commune committee
            telecom = s.get(FeedbackService, "telecom")
            assert telecom is not None
            telecom.route_to = "commune"
        rid, _ = add(queue_db, "telecom", point=TU_LY)
        assert _routed(queue_db, rid) == (TU_LY_CODE, tu_ly_committee)
        with other.session("test") as s:  # ... which is then gone: back to the department
            s.execute(delete(FeedbackRequest).where(FeedbackRequest.agency_code == tu_ly_committee))
            committee = s.get(Agency, tu_ly_committee)
            assert committee is not None
            kept = {c: getattr(committee, c) for c in ("name", "kind", "place_code", "parent_code")}
            s.delete(committee)
        rid, _ = add(queue_db, "telecom", point=TU_LY)
        assert _routed(queue_db, rid) == (TU_LY_CODE, "STTTT")
        with other.session("test") as s:  # the committee is back, and telecom is withdrawn
            s.add(Agency(code=tu_ly_committee, **kept))
            telecom = s.get(FeedbackService, "telecom")
            assert telecom is not None
            telecom.active = False
        with queue_db.session() as session, pytest.raises(Invalid) as exc:
            service.submit(session, service.Submission("telecom", lat=TU_LY[0], lon=TU_LY[1]))
        assert exc.value.field == "service_code"
        with other.session("test") as s:
            telecom = s.get(FeedbackService, "telecom")
            assert telecom is not None
            telecom.active = True
        rid, _ = add(queue_db, "telecom", point=TU_LY)
        assert _routed(queue_db, rid) == (TU_LY_CODE, tu_ly_committee)
    finally:
        other.dispose()


def test_points_are_placed_in_the_2025_tree_without_boxes(database: Database) -> None:
    """Its communes have centroids but no boxes: nothing to refuse a point by."""
    with database.session() as s:
        places.load_province(s, "25", tree="2025")
        ward = places.children(s, "25")[0]
        assert ward.lat is not None and ward.lon is not None
        assert service.place_for_point(s, ward.lat, ward.lon).code == ward.code


def test_likely_duplicates_are_looked_for_in_the_partial_index(
    queue_db: Database, backend: str
) -> None:
    statuses = ", ".join(repr(s) for s in sorted(OPEN_STATUSES))
    assert f"status IN ({statuses})" == OPEN_WHERE  # the index and the query agree
    if backend != "sqlite":
        pytest.skip("the plan is checked on SQLite, whose planner matches the index's WHERE text")
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if "FROM feedback_requests" in sql:
            sent.append((sql, params))

    event.listen(queue_db.engine, "before_cursor_execute", capture)
    try:
        with queue_db.session() as session:
            rule = service.DuplicateRule()
            service.likely_duplicate(session, "waste", *TU_LY, local(2026, 3, 2, 9), rule)
    finally:
        event.remove(queue_db.engine, "before_cursor_execute", capture)
    [(sql, params)] = sent
    with queue_db.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    plan = " ".join(str(row) for row in rows)
    assert "ix_feedback_requests_open_service_position" in plan, plan
