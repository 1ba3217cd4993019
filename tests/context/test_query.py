"""GET /entities: type, id, idPattern, attrs, the q language, pages and counts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.context.conftest import Ngsi, assert_error

Q = pytest.mark.parametrize


def sensor(n: int, **attrs: Any) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:AirQualityObserved:{n}", "type": "AirQualityObserved", **attrs}


def prop(value: Any, **more: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **more}


@pytest.fixture
def air(ngsi: Ngsi) -> Ngsi:
    entities = [
        sensor(
            1,
            pm25=prop(12.5, observedAt="2026-01-01T06:00:00Z", quality=prop("good")),
            status=prop("online"),
            name=prop("Phường Phương Lâm"),
            address=prop({"district": "TP Hòa Bình", "street": "Cù Chính Lan"}),
            station={"type": "Relationship", "object": "urn:ngsi-ld:Station:A"},
            tags=prop(["urban", "school"]),
            active=prop(True),
        ),
        sensor(
            2,
            pm25=prop(35, observedAt="2026-01-02T06:00:00Z", quality=prop("moderate")),
            status=prop("online"),
            name=prop("Xã Mông Hóa"),
            address=prop({"district": "Kỳ Sơn", "street": "QL6"}),
            station={"type": "Relationship", "object": "urn:ngsi-ld:Station:B"},
            tags=prop(["rural"]),
            active=prop(False),
        ),
        sensor(
            3,
            pm25=prop(80.2, observedAt="2026-01-03T06:00:00Z", quality=prop("bad")),
            status=prop("offline"),
            name=prop("Phường Tân Thịnh"),
            address=prop({"district": "TP Hòa Bình", "street": "Trần Hưng Đạo"}),
            station={"type": "Relationship", "object": "urn:ngsi-ld:Station:A"},
            active=prop(True),
        ),
        sensor(4, status=prop("maintenance")),
    ]
    assert ngsi.post("/entityOperations/create", json=entities).status_code == 201
    ngsi.create(
        {"id": "urn:ngsi-ld:WaterLevel:1", "type": "WaterLevelObserved", "level": prop(3.2)}
    )
    return ngsi


def numbers(air: Ngsi, q: str, **params: Any) -> list[int]:
    found = air.ids(type="AirQualityObserved", q=q, **params)
    return [int(i.rsplit(":", 1)[1]) for i in found]


@Q(
    "q, expected",
    [
        ("pm25", [1, 2, 3]),
        ("pm25==35", [2]),
        ("pm25==12.5", [1]),
        ("pm25!=35", [1, 3]),
        ("pm25>35", [3]),
        ("pm25>=35", [2, 3]),
        ("pm25<35", [1]),
        ("pm25<=35", [1, 2]),
        ("pm25==10..40", [1, 2]),
        ("pm25!=10..40", [3]),
        ("pm25==12.5,80.2", [1, 3]),
        ('status=="online"', [1, 2]),
        ("status==online", [1, 2]),
        ('status=="online","maintenance"', [1, 2, 4]),
        ('status!="online"', [3, 4]),
        ('name~="^Phường"', [1, 3]),
        ('name!~="^Phường"', [2]),
        ('name~="(?i)mông"', [2]),
        ("pm25>20;status==online", [2]),
        ("pm25>50|status==maintenance", [3, 4]),
        ("(pm25<20|pm25>50);status==online", [1]),
        ("pm25<20|pm25>50;status==online", [1]),
        ("active==true", [1, 3]),
        ("active==false", [2]),
        ("station==urn:ngsi-ld:Station:A", [1, 3]),
        ('station=="urn:ngsi-ld:Station:B"', [2]),
        ("tags==school", [1]),
        ("tags==urban,rural", [1, 2]),
        ('address[district]=="TP Hòa Bình"', [1, 3]),
        ("address[street]==QL6", [2]),
        ('pm25.quality=="bad"', [3]),
        ("pm25.quality", [1, 2, 3]),
        ("pm25.observedAt>=2026-01-02T00:00:00Z", [2, 3]),
        ("pm25.observedAt<2026-01-02T00:00:00Z", [1]),
        ("pm25.observedAt==2026-01-01T00:00:00Z..2026-01-02T12:00:00Z", [1, 2]),
        ("pm25==online", []),  # a string never equals a number
        ('status>"n"', [1, 2, 3]),  # strings compare too
    ],
)
def test_q(air: Ngsi, q: str, expected: list[int]) -> None:
    assert numbers(air, q) == expected


def test_q_alone_selects_across_types(air: Ngsi) -> None:
    assert air.ids(q="level>3") == ["urn:ngsi-ld:WaterLevel:1"]


@Q(
    "q",
    [
        "pm25==",
        "pm25>>3",
        "(pm25>3",
        "pm25~=(unclosed",
        'name=="unterminated',
        "pm25>1,2",
        "[x]==1",
    ],
)
def test_bad_q_is_bad_request_data(air: Ngsi, q: str) -> None:
    body = assert_error(air.get("/entities", params={"q": q}), 400, "BadRequestData")
    assert body["detail"].startswith("q:")


def test_type_id_and_id_pattern(air: Ngsi) -> None:
    assert air.ids(type="WaterLevelObserved") == ["urn:ngsi-ld:WaterLevel:1"]
    assert len(air.ids(type="AirQualityObserved,WaterLevelObserved")) == 5
    assert len(air.ids(type="AirQualityObserved|WaterLevelObserved")) == 5
    assert air.ids(type="AirQualityObserved;WaterLevelObserved") == []
    assert air.ids(id="urn:ngsi-ld:AirQualityObserved:2,urn:ngsi-ld:WaterLevel:1") == [
        "urn:ngsi-ld:AirQualityObserved:2",
        "urn:ngsi-ld:WaterLevel:1",
    ]
    assert air.ids(idPattern="^urn:ngsi-ld:AirQualityObserved:[13]$") == [
        "urn:ngsi-ld:AirQualityObserved:1",
        "urn:ngsi-ld:AirQualityObserved:3",
    ]
    assert air.ids(idPattern="Level") == ["urn:ngsi-ld:WaterLevel:1"]
    assert_error(air.get("/entities", params={"idPattern": "(["}), 400, "BadRequestData")


def test_attrs_selects_and_projects(air: Ngsi) -> None:
    response = air.get("/entities", params={"attrs": "level,station"})
    found = {e["id"]: set(e) - {"id", "type"} for e in response.json()}
    assert found == {
        "urn:ngsi-ld:AirQualityObserved:1": {"station"},
        "urn:ngsi-ld:AirQualityObserved:2": {"station"},
        "urn:ngsi-ld:AirQualityObserved:3": {"station"},
        "urn:ngsi-ld:WaterLevel:1": {"level"},
    }


def test_pages_are_ordered_by_id_and_counted(air: Ngsi) -> None:
    all_ids = air.ids(type="AirQualityObserved")
    assert all_ids == sorted(all_ids)
    page = air.get(
        "/entities", params={"type": "AirQualityObserved", "limit": 2, "offset": 1, "count": "true"}
    )
    assert page.status_code == 200
    assert [e["id"] for e in page.json()] == all_ids[1:3]
    assert page.headers["NGSILD-Results-Count"] == "4"
    filtered = air.get(
        "/entities",
        params={"type": "AirQualityObserved", "q": "pm25>20", "limit": 1, "count": "true"},
    )
    assert [e["id"] for e in filtered.json()] == ["urn:ngsi-ld:AirQualityObserved:2"]
    assert filtered.headers["NGSILD-Results-Count"] == "2"
    only_count = air.get(
        "/entities", params={"type": "AirQualityObserved", "limit": 0, "count": "true"}
    )
    assert only_count.json() == [] and only_count.headers["NGSILD-Results-Count"] == "4"
    assert "NGSILD-Results-Count" not in air.get("/entities", params={"type": "X"}).headers


def test_query_formats(air: Ngsi) -> None:
    response = air.get(
        "/entities", params={"id": "urn:ngsi-ld:AirQualityObserved:2", "options": "keyValues"}
    )
    assert response.json()[0]["pm25"] == 35
    assert response.json()[0]["station"] == "urn:ngsi-ld:Station:B"


def test_query_limits(air: Ngsi) -> None:
    assert_error(air.get("/entities", params={"type": "X", "limit": 1001}), 403, "TooManyResults")
    assert_error(air.get("/entities", params={"type": "X", "limit": -1}), 400, "BadRequestData")
    assert_error(air.get("/entities", params={"type": "X", "limit": 0}), 400, "BadRequestData")
    assert_error(air.get("/entities", params={"type": "X", "offset": "a"}), 400, "BadRequestData")
    body = assert_error(air.get("/entities"), 400, "BadRequestData")
    assert "too broad" in body["detail"]
