"""Agencies: search and filters for everyone; changes for admins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from ioc.core.text import fold

Problem = Callable[..., dict[str, Any]]
Auth = Callable[..., dict[str, str]]
AGENCIES = "/api/v1/agencies"


def codes(client: TestClient, **params: Any) -> list[str]:
    response = client.get(AGENCIES, params=params)
    assert response.status_code == 200, response.text
    return [a["code"] for a in response.json()["items"]]


def test_search_ignores_diacritics(client: TestClient) -> None:
    for q in ("so y te", "Sở Y tế", "SỞ Y TẾ", "health"):
        assert "SYT" in codes(client, q=q), q
    health = client.get(f"{AGENCIES}/SYT").json()
    assert (health["name"], health["kind"], health["place_code"]) == ("Sở Y tế", "department", "17")
    assert health["name_en"] == "Department of Health"
    # Each word must appear (anywhere) in the code or either name.
    found = client.get(AGENCIES, params={"q": "so y te"}).json()["items"]
    for agency in found:
        text = fold(f"{agency['code']} {agency['name']} {agency['name_en']}")
        assert all(word in text for word in ("so", "y", "te")), agency
    assert codes(client, q="department of health") == ["SYT"]


def test_committees_one_per_district_and_commune(client: TestClient) -> None:
    districts = client.get(AGENCIES, params={"kind": "district_pc"}).json()
    assert districts["total"] == 10
    district_places = {d["code"] for d in client.get("/api/v1/places/17/children").json()}
    assert {a["place_code"] for a in districts["items"]} == district_places
    assert {a["parent_code"] for a in districts["items"]} == {"UBND-TINH"}
    communes = client.get(AGENCIES, params={"kind": "commune_pc", "limit": 1000}).json()
    assert communes["total"] == len(communes["items"]) == 151
    da_bac = client.get(AGENCIES, params={"place": "150"}).json()["items"]
    assert [(a["code"], a["name"]) for a in da_bac] == [("UBND-150", "UBND huyện Đà Bắc")]
    page = client.get(AGENCIES, params={"kind": "commune_pc", "limit": 7, "offset": 150}).json()
    assert (page["total"], len(page["items"])) == (151, 1)
    assert codes(client, kind="no_such_kind") == []


def test_unknown_agency_is_404(client: TestClient, admin: dict[str, str], problem: Problem) -> None:
    problem(client.get(f"{AGENCIES}/NOPE"), 404)
    problem(client.patch(f"{AGENCIES}/NOPE", json={"name": "x"}, headers=admin), 404)


def test_admin_creates_and_changes_an_agency(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    body = {
        "code": "ttxtdt-dl",
        "name": "Trung tâm Xúc tiến đầu tư và du lịch",
        "name_en": "Investment and Tourism Promotion Centre",
        "kind": "office",
        "place_code": "17",
        "parent_code": "UBND-TINH",
        "phone": "0218 3852 000",
    }
    created = client.post(AGENCIES, json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "TTXTDT-DL"
    assert created.json()["active"] is True
    assert client.get(f"{AGENCIES}/TTXTDT-DL").json() == created.json()
    assert codes(client, q="xuc tien dau tu du lich") == ["TTXTDT-DL"]
    problem(client.post(AGENCIES, json=body, headers=admin), 409)

    change = {"name": "Trung tâm Hỗ trợ doanh nghiệp", "active": False, "place_code": "148"}
    patched = client.patch(f"{AGENCIES}/TTXTDT-DL", json=change, headers=admin)
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert (after["name"], after["active"], after["place_code"]) == (
        "Trung tâm Hỗ trợ doanh nghiệp",
        False,
        "148",
    )
    assert after["phone"] == "0218 3852 000"  # fields left out stay as they were
    assert codes(client, q="ho tro doanh nghiep") == ["TTXTDT-DL"]
    assert codes(client, q="xuc tien") == []
    problem(
        client.patch(f"{AGENCIES}/TTXTDT-DL", json={"kind": "ministry"}, headers=admin),
        422,
        field="kind",
    )
    problem(
        client.patch(f"{AGENCIES}/TTXTDT-DL", json={"parent_code": "TTXTDT-DL"}, headers=admin),
        422,
        field="parent_code",
    )


def test_only_admins_change_agencies(client: TestClient, auth: Auth, problem: Problem) -> None:
    body = {"code": "X1", "name": "Thử"}
    for username in ("lanhdao", "vanhanh", "sotttt", "dabac", "congdan"):
        headers = auth(username)
        problem(client.post(AGENCIES, json=body, headers=headers), 403)
        problem(client.patch(f"{AGENCIES}/STTTT", json={"name": "x"}, headers=headers), 403)
    problem(client.post(AGENCIES, json=body), 401)
    problem(client.patch(f"{AGENCIES}/STTTT", json={"name": "x"}), 401)
    assert client.get(f"{AGENCIES}/X1").status_code == 404
    assert client.get(f"{AGENCIES}/STTTT").json()["name"] == "Sở Thông tin và Truyền thông"


def test_unknown_references_name_the_field(
    client: TestClient, admin: dict[str, str], problem: Problem
) -> None:
    bad_place = {"code": "X2", "name": "Thử", "place_code": "99999"}
    problem(client.post(AGENCIES, json=bad_place, headers=admin), 422, field="place_code")
    bad_parent = {"code": "X2", "name": "Thử", "parent_code": "NOPE"}
    problem(client.post(AGENCIES, json=bad_parent, headers=admin), 422, field="parent_code")
    bad_code = {"code": "không hợp lệ", "name": "Thử"}
    problem(client.post(AGENCIES, json=bad_code, headers=admin), 422, field="code")
    patch = client.patch(f"{AGENCIES}/SYT", json={"place_code": "99999"}, headers=admin)
    problem(patch, 422, field="place_code")
    assert client.get(f"{AGENCIES}/X2").status_code == 404
    assert client.get(f"{AGENCIES}/SYT").json()["place_code"] == "17"


def test_longest_names_fit_and_search_has_no_wildcards(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Code and both names at their maximum outgrow the search column (400): PostgreSQL refused it.
    body = {"code": "L" * 32, "name": "Trung tâm " + "a" * 190, "name_en": "Centre " + "b" * 193}
    created = client.post(AGENCIES, json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert client.get(f"{AGENCIES}/{'L' * 32}").json()["name_en"] == body["name_en"]
    assert codes(client, q="trung tam aaaa") == ["L" * 32]
    # "%" and "_" are searched for as themselves, not as LIKE wildcards.
    for q in ("%", "_", "s_ y", "s%y"):
        assert codes(client, q=q) == [], q
