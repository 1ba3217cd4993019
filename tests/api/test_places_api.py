"""Places: the province's administrative units, found in any spelling."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from ioc.demo.builder import DEMO_PASSWORD

Problem = Callable[..., dict[str, Any]]
PLACES = "/api/v1/places"


def codes(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["code"] for p in response.json()["items"]]


def test_one_place(client: TestClient) -> None:
    place = client.get(f"{PLACES}/150").json()
    assert place["name"] == "Huyện Đà Bắc"
    assert place["short_name"] == "Đà Bắc"
    assert (place["level"], place["kind"], place["parent_code"]) == ("district", "Huyện", "17")
    assert place["tree"] == "legacy"
    min_lon, min_lat, max_lon, max_lat = place["bbox"]
    assert min_lon < place["lon"] < max_lon and min_lat < place["lat"] < max_lat
    province = client.get(f"{PLACES}/17").json()
    assert (province["level"], province["parent_code"]) == ("province", None)
    assert province["name"].endswith("Hòa Bình")


def test_children(client: TestClient) -> None:
    city = client.get(f"{PLACES}/148/children").json()
    assert len(city) == 19
    assert {c["level"] for c in city} == {"commune"}
    assert {c["parent_code"] for c in city} == {"148"}
    assert [c["code"] for c in city] == sorted(c["code"] for c in city)
    districts = client.get(f"{PLACES}/17/children").json()
    assert len(districts) == 10
    assert {"148", "150"} <= {d["code"] for d in districts}
    assert {d["level"] for d in districts} == {"district"}
    assert client.get(f"{PLACES}/{city[0]['code']}/children").json() == []


@pytest.mark.parametrize(
    "q", ["da bac", "Đà Bắc", "ĐÀ   BẮC", unicodedata.normalize("NFD", "Đà Bắc"), "huyen da bac"]
)
def test_search_ignores_diacritics_case_and_spacing(client: TestClient, q: str) -> None:
    found = client.get(PLACES, params={"q": q}).json()
    assert found["items"][0]["code"] == "150"
    assert found["items"][0]["name"] == "Huyện Đà Bắc"
    assert codes(client.get(PLACES, params={"q": q, "level": "district"})) == ["150"]


def test_search_filters(client: TestClient) -> None:
    # "da bac" also names the district town (Thị trấn Đà Bắc); districts sort before communes.
    both = client.get(PLACES, params={"q": "da bac"}).json()
    assert [p["level"] for p in both["items"]] == ["district", "commune"]
    assert both["total"] == 2
    assert codes(client.get(PLACES, params={"level": "province"})) == ["17"]
    inside = client.get(PLACES, params={"parent": "150", "level": "commune", "limit": 100})
    children = {c["code"] for c in client.get(f"{PLACES}/150/children").json()}
    assert set(codes(inside)) == children and inside.json()["total"] == len(children)
    assert codes(client.get(PLACES, params={"q": "150"})) == ["150"]
    assert client.get(PLACES, params={"q": "khong co noi nay"}).json()["total"] == 0


def test_paging_walks_every_commune_once(client: TestClient) -> None:
    seen: list[str] = []
    for offset in range(0, 200, 50):
        page = client.get(PLACES, params={"level": "commune", "limit": 50, "offset": offset})
        body = page.json()
        assert (body["total"], body["limit"], body["offset"]) == (151, 50, offset)
        seen += codes(page)
    assert len(seen) == len(set(seen)) == 151
    assert seen == sorted(seen)
    assert codes(client.get(PLACES, params={"level": "commune", "offset": 151})) == []
    assert len(codes(client.get(PLACES))) == 50  # the default page


def test_bad_queries_are_problems(client: TestClient, problem: Problem) -> None:
    problem(client.get(f"{PLACES}/99999"), 404)
    problem(client.get(f"{PLACES}/99999/children"), 404)
    problem(client.get(PLACES, params={"level": "city"}), 422, field="query.level")
    problem(client.get(PLACES, params={"limit": 0}), 422, field="query.limit")
    problem(client.get(PLACES, params={"limit": 1001}), 422, field="query.limit")
    problem(client.get(PLACES, params={"offset": -1}), 422, field="query.offset")
    problem(client.get(PLACES, params={"parent": "99999"}), 422, field="parent")


def test_reference_data_can_require_login(app_factory, problem: Problem) -> None:
    paths = [
        PLACES,
        f"{PLACES}/150",
        f"{PLACES}/150/children",
        "/api/v1/agencies",
        "/api/v1/agencies/SYT",
    ]
    public = app_factory()
    for path in paths:
        assert public.get(path).status_code == 200, path
    private = app_factory(public_reference_data=False)
    for path in paths:
        response = problem(private.get(path), 401)
        assert response["instance"] == path
    form = {"username": "congdan", "password": DEMO_PASSWORD}
    token = private.post("/api/v1/auth/token", data=form).json()["access_token"]
    for path in paths:
        assert private.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
