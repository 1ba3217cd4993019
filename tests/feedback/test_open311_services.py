"""Open311 discovery, services and service definitions, in JSON and XML, Vietnamese and English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.feedback.catalogue import CATEGORIES
from tests.feedback.open311_support import FORMATS, PREFIX, assert_error, read, url

SERVICE_KEYS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
ATTRIBUTE_KEYS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_points_at_this_endpoint(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    body = read(client.get(url(f"/discovery.{fmt}")), fmt, "discovery")
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    assert "Hòa Bình" in body["contact"]
    [endpoint] = body["endpoints"]
    assert endpoint == {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "http://testserver" + PREFIX,
        "changeset": body["changeset"],
        "type": "test",
        "formats": ["text/xml", "application/json"],
    }
    assert body["changeset"].endswith("+07:00")


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_the_catalogue_in_vietnamese(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    response = client.get(url(f"/services.{fmt}"))
    assert response.status_code == 200
    services = read(response, fmt, "services")
    assert [s["service_code"] for s in services] == [c.code for c in CATEGORIES]
    assert all(set(s) == SERVICE_KEYS for s in services)
    road = services[0]
    assert road == {
        "service_code": "road",
        "service_name": "Đường, cầu, cống hư hỏng",
        "description": "Đường, cầu, cống hư hỏng",
        "metadata": "true",
        "type": "realtime",
        "keywords": "ổ gà, sụt lún, cầu, cống, mặt đường, pothole",
        "group": "Hạ tầng giao thông",
    }
    waste = next(s for s in services if s["service_code"] == "waste")
    assert waste["metadata"] == "false"  # no attributes to ask for


def test_services_json_types(client: TestClient, catalogue: Database) -> None:
    services = client.get(url("/services.json")).json()
    assert all(isinstance(s["metadata"], bool) for s in services)
    assert {s["service_code"]: s["metadata"] for s in services}["flood"] is True


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "how", [{"params": {"lang": "en"}}, {"headers": {"Accept-Language": "en-GB,en;q=0.9,vi;q=0.5"}}]
)
def test_english_names_on_request(
    client: TestClient, catalogue: Database, fmt: str, how: dict[str, dict[str, str]]
) -> None:
    services = read(client.get(url(f"/services.{fmt}"), **how), fmt, "services")  # type: ignore[arg-type]
    road = services[0]
    assert road["service_name"] == "Damaged roads, bridges and culverts"
    assert road["group"] == "Transport infrastructure"


def test_vietnamese_stays_first_choice(client: TestClient, catalogue: Database) -> None:
    headers = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"}
    assert client.get(url("/services.json"), headers=headers).json()[0]["service_name"] == (
        "Đường, cầu, cống hư hỏng"
    )
    # ?lang wins over the header
    response = client.get(
        url("/services.json"), params={"lang": "vi"}, headers={"Accept-Language": "en"}
    )
    assert response.json()[0]["service_name"] == "Đường, cầu, cống hư hỏng"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_lists_attributes_and_values(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    response = client.get(url(f"/services/streetlight.{fmt}"))
    assert response.status_code == 200
    body = read(response, fmt, "service_definition")
    assert set(body) == {"service_code", "attributes"}
    assert body["service_code"] == "streetlight"
    problem, pole = body["attributes"]
    assert set(problem) == ATTRIBUTE_KEYS | {"values"}
    assert problem["code"] == "problem"
    assert problem["datatype"] == "singlevaluelist"
    assert problem["required"] == "true" and problem["variable"] == "true"
    assert problem["order"] == "1"
    assert problem["values"][0] == {"key": "off", "name": "Không sáng"}
    assert [v["key"] for v in problem["values"]] == ["off", "day", "flicker", "pole"]
    # a free-text attribute has no values at all
    assert set(pole) == ATTRIBUTE_KEYS
    assert (pole["code"], pole["datatype"], pole["required"], pole["order"]) == (
        "pole_id",
        "string",
        "false",
        "2",
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_multivaluelist_definition(client: TestClient, catalogue: Database, fmt: str) -> None:
    body = read(client.get(url(f"/services/pollution.{fmt}")), fmt, "service_definition")
    [kind] = body["attributes"]
    assert kind["datatype"] == "multivaluelist"
    assert {v["key"] for v in kind["values"]} == {"air", "noise", "water", "smell"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_without_attributes_has_an_empty_definition(
    client: TestClient, catalogue: Database, fmt: str
) -> None:
    body = read(client.get(url(f"/services/waste.{fmt}")), fmt, "service_definition")
    assert body == {"service_code": "waste", "attributes": []}


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_is_404(client: TestClient, catalogue: Database, fmt: str) -> None:
    assert_error(client.get(url(f"/services/khong-co.{fmt}")), fmt, 404, "service_code")


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("/services.csv", "xml"),
        ("/services", "xml"),
        ("/nothing-here.json", "json"),
        ("/requests/1", "xml"),
        ("/requests/1.html", "xml"),
    ],
)
def test_unknown_format_or_resource_is_an_open311_404(
    client: TestClient, catalogue: Database, path: str, fmt: str
) -> None:
    assert_error(client.get(url(path)), fmt, 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdiction(
    app_factory: Callable[..., TestClient], catalogue: Database, fmt: str
) -> None:
    client = app_factory(open311_jurisdiction="hoabinh.gov.vn")
    for path in (
        f"/services.{fmt}",
        f"/services/road.{fmt}",
        f"/requests.{fmt}",
        f"/discovery.{fmt}",
    ):
        assert client.get(url(path)).status_code == 200
        ok = client.get(url(path), params={"jurisdiction_id": "hoabinh.gov.vn"})
        assert ok.status_code == 200
        wrong = client.get(url(path), params={"jurisdiction_id": "hanoi.gov.vn"})
        assert_error(wrong, fmt, 404, "jurisdiction_id", "hanoi.gov.vn")


def test_any_jurisdiction_when_none_is_set(client: TestClient, catalogue: Database) -> None:
    response = client.get(url("/services.json"), params={"jurisdiction_id": "anything"})
    assert response.status_code == 200
