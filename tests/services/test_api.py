"""The public-services API: a public catalogue, scoped dossiers, workflow, upload, measures."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from ioc.core.db import Database

from .conftest import DA_BAC, HOA_BINH_CITY, commune_of

Auth = Callable[..., dict[str, str]]
API = "/api/v1/services"
HEADER = "code,procedure_code,place_code,channel,received_at,status,completed_at"


def _load(db: Database, client: TestClient, auth: Auth) -> tuple[str, str]:
    with db.session() as s:
        a, b = commune_of(s, DA_BAC), commune_of(s, HOA_BINH_CITY)
    rows = [
        f"A1,DKKD-001,{a},online,2025-03-03 09:00,completed,2025-03-04 09:00",
        f"A2,DKKD-001,{a},online,2025-03-03 09:00,processing,",
        f"B1,DKKD-001,{b},online,2025-03-03 09:00,completed,2025-03-10 09:00",
        f"B2,TTTT-001,{b},one_stop_desk,2025-03-03 09:00,received,",
    ]
    body = ("\n".join([HEADER, *rows]) + "\n").encode()
    response = client.post(
        f"{API}/import",
        files={"file": ("export.csv", body, "text/csv")},
        headers=auth("vanhanh"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 4
    return a, b


def _codes(client: TestClient, headers: dict[str, str], query: str = "") -> list[str]:
    response = client.get(f"{API}/dossiers{query}", headers=headers)
    assert response.status_code == 200, response.text
    return sorted(d["code"] for d in response.json()["items"])


def test_the_catalogue_is_public(services_db: Database, client: TestClient) -> None:
    response = client.get(f"{API}/procedures", params={"online_level": "full_online"})
    assert response.status_code == 200
    assert response.json()["total"] == 90
    one = client.get(f"{API}/procedures/HO_TICH-001").json()
    assert one["name"] == "Đăng ký khai sinh" and one["online_level"] == "full_online"
    assert client.get(f"{API}/procedures/NOPE").status_code == 404
    assert client.get(f"{API}/dossiers").status_code == 401


def test_a_district_admin_sees_only_their_district(
    services_db: Database, client: TestClient, auth: Auth
) -> None:
    _load(services_db, client, auth)
    dabac = auth("dabac")
    assert _codes(client, dabac) == ["A1", "A2"]
    assert client.get(f"{API}/dossiers/B1", headers=dabac).status_code == 404
    assert _codes(client, auth("vanhanh")) == ["A1", "A2", "B1", "B2"]
    assert _codes(client, auth("vanhanh"), f"?place={DA_BAC}") == ["A1", "A2"]
    assert _codes(client, auth("vanhanh"), "?status=received&status=processing") == ["A2", "B2"]
    everything = client.get(
        f"{API}/measures",
        params={"from": "2025-03-01", "to": "2025-03-31", "by": "province"},
        headers=auth("vanhanh"),
    ).json()["groups"]
    assert [(g["received"], g["resolved"], g["in_progress"]) for g in everything] == [(4, 2, 2)]
    measures = client.get(
        f"{API}/measures", params={"from": "2025-03-01", "to": "2025-03-31"}, headers=dabac
    ).json()
    assert [(g["key"], g["resolved"], g["in_progress"]) for g in measures["groups"]] == [
        (DA_BAC, 1, 1)
    ]


def test_agency_staff_see_and_handle_only_their_agency(
    services_db: Database, client: TestClient, auth: Auth
) -> None:
    _load(services_db, client, auth)
    staff = auth("sotttt")
    assert _codes(client, staff) == ["B2"]
    moved = client.post(
        f"{API}/dossiers/B2/transition", json={"status": "processing"}, headers=staff
    )
    assert moved.status_code == 200, moved.text
    assert [s["action"] for s in moved.json()["steps"]] == ["processing"]
    other = client.post(
        f"{API}/dossiers/A2/transition", json={"status": "completed"}, headers=staff
    )
    assert other.status_code == 404
    leader = client.post(
        f"{API}/dossiers/A2/transition", json={"status": "completed"}, headers=auth("lanhdao")
    )
    assert leader.status_code == 403
    bad = client.post(f"{API}/dossiers/B2/transition", json={"status": "received"}, headers=staff)
    assert bad.status_code == 409  # back to "received" is not a move the workflow allows


def test_creating_and_handing_off_through_the_api(
    services_db: Database, client: TestClient, auth: Auth
) -> None:
    with services_db.session() as s:
        a, b = commune_of(s, DA_BAC), commune_of(s, HOA_BINH_CITY)
    body = {"code": "N-1", "procedure_code": "XAY_DUNG-002", "place_code": a, "channel": "post"}
    created = client.post(f"{API}/dossiers", json=body, headers=auth("vanhanh"))
    assert created.status_code == 201, created.text
    assert created.json()["agency_code"] == "SXD" and created.json()["status"] == "received"
    handed = client.post(
        f"{API}/dossiers/N-1/hand-off",
        json={"to_agency": "STNMT", "note": "thẩm định đất"},
        headers=auth("vanhanh"),
    )
    assert handed.json()["current_agency"] == "STNMT"
    outside = {**body, "code": "N-2", "place_code": b}
    refused = client.post(f"{API}/dossiers", json=outside, headers=auth("dabac"))
    assert refused.status_code == 403
    assert client.get(f"{API}/dossiers/N-2", headers=auth("vanhanh")).status_code == 404


def test_agency_staff_may_import_only_their_agency(
    services_db: Database, client: TestClient, auth: Auth
) -> None:
    with services_db.session() as s:
        b = commune_of(s, HOA_BINH_CITY)
    rows = [
        f"S1,TTTT-001,{b},online,2025-03-03 09:00,received,",
        f"S2,DKKD-001,{b},online,2025-03-03 09:00,received,",
    ]
    response = client.post(
        f"{API}/import",
        content=("\n".join([HEADER, *rows]) + "\n").encode(),
        headers={**auth("sotttt"), "Content-Type": "text/csv"},
    )
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["field"] == "agency_code"
    assert "outside your scope" in report["errors"][0]["message"]
    refused = client.post(
        f"{API}/import", content=b"x", headers={**auth("lanhdao"), "Content-Type": "text/csv"}
    )
    assert refused.status_code == 403
