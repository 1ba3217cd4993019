"""OGC API – Features over HTTP: documents, links, paging, filters, errors, HTML, holders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.gis import importer
from tests.gis.conftest import geojson_file, point

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
WINDOW = "105.30,20.80,105.36,20.84"  # the middle of Hòa Bình city


def test_landing_and_conformance(client: TestClient) -> None:
    doc = client.get("/ogcapi/").json()
    rels = {link["rel"]: link for link in doc["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert client.get(rels["service-desc"]["href"]).status_code == 200
    conformance = client.get(rels["conformance"]["href"]).json()["conformsTo"]
    assert CORE in conformance and any(c.endswith("/geojson") for c in conformance)


def test_collections_list_every_layer(client: TestClient) -> None:
    doc = client.get("/ogcapi/collections").json()
    ids = [c["id"] for c in doc["collections"]]
    assert ids[:3] == ["admin-units", "parcels", "planning-zones"]
    assert {"bts-stations", "network-points", "fibre-routes", "roads", "water-network"} <= set(ids)
    assert {"power-network", "bridges"} <= set(ids)
    parcels = client.get("/ogcapi/collections/parcels").json()
    assert parcels["itemType"] == "feature"
    west, south, east, north = parcels["extent"]["spatial"]["bbox"][0]
    assert 105.2 < west < east < 105.5 and 20.7 < south < north < 21.1
    items = next(
        link for link in parcels["links"] if link["rel"] == "items" and "geo+json" in link["type"]
    )
    assert client.get(items["href"]).status_code == 200


def test_items_page_through_with_links(client: TestClient) -> None:
    url = f"/ogcapi/collections/parcels/items?bbox={WINDOW}&limit=100"
    first = client.get(url)
    assert first.headers["content-type"].startswith("application/geo+json")
    doc = first.json()
    matched = doc["numberMatched"]
    assert matched > 100 and doc["numberReturned"] == 100
    seen = [f["id"] for f in doc["features"]]
    while (nxt := next((l["href"] for l in doc["links"] if l["rel"] == "next"), None)) is not None:  # noqa: E741
        doc = client.get(nxt).json()
        assert any(link["rel"] == "prev" for link in doc["links"])
        seen += [f["id"] for f in doc["features"]]
    assert len(seen) == len(set(seen)) == matched


def test_property_filters_and_datetime(client: TestClient) -> None:
    odt = client.get("/ogcapi/collections/parcels/items?land_use=ODT&limit=1000").json()
    assert odt["numberMatched"] > 0
    assert {f["properties"]["land_use"] for f in odt["features"]} == {"ODT"}
    viettel = client.get(
        "/ogcapi/collections/bts-stations/items?operator=Viettel&limit=1000"
    ).json()
    assert viettel["numberMatched"] == 51  # every third of 151 communes
    points = client.get("/ogcapi/collections/network-points/items?limit=1").json()
    assert points["numberMatched"] == 183  # the seeds: 32 + 151
    future = client.get("/ogcapi/collections/parcels/items?datetime=2100-01-01T00:00:00Z/..")
    assert future.json()["numberMatched"] == 0
    past = client.get("/ogcapi/collections/parcels/items?datetime=../2100-01-01&limit=1")
    assert past.json()["numberMatched"] > 1000
    communes = client.get("/ogcapi/collections/admin-units/items?level=commune&limit=500").json()
    assert communes["numberMatched"] == 151


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3", "bbox"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2024-02-01T00:00:00Z/2024-01-01T00:00:00Z", "datetime"),
        ("colour=red", "colour"),
        ("sheet_no=ten", "sheet_no"),
        ("f=xml", "f"),
    ],
)
def test_bad_parameters_are_400_problems(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/ogcapi/collections/parcels/items?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field


def test_unknown_collection_and_feature(client: TestClient) -> None:
    assert client.get("/ogcapi/collections/nope").status_code == 404
    assert client.get("/ogcapi/collections/parcels/items/nope").status_code == 404


def test_one_feature_and_html(client: TestClient) -> None:
    first = client.get("/ogcapi/collections/parcels/items?limit=1").json()["features"][0]
    one = client.get(f"/ogcapi/collections/parcels/items/{first['id']}")
    assert one.json()["properties"]["key"] == first["id"]
    assert one.json()["geometry"]["type"] == "Polygon"
    page = client.get("/ogcapi/collections/parcels/items?limit=3", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and "Land parcels" in page.text
    assert "<table>" in client.get("/ogcapi/collections?f=html").text


def test_holders_only_for_authorised_users_in_scope(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    url = "/ogcapi/collections/parcels/items?limit=1000"

    def holders(headers: dict[str, str]) -> int:
        doc = client.get(url, headers=headers).json()
        return sum("holder_name" in f["properties"] for f in doc["features"])

    assert holders({}) == 0
    assert holders(auth("congdan")) == 0  # a citizen
    assert holders(auth("lanhdao")) == 1000  # the province's leader
    assert holders(auth("dabac")) == 0  # Đà Bắc's admin: the city is outside the district


def test_a_limit_over_the_maximum_is_served_as_the_maximum(client: TestClient) -> None:
    doc = client.get("/ogcapi/collections/parcels/items?limit=20000").json()
    assert doc["numberReturned"] == min(doc["numberMatched"], 10_000)


def test_numeric_and_text_properties_of_an_imported_layer(
    client: TestClient, demo_db: Database, tmp_path: Path
) -> None:
    path = geojson_file(
        tmp_path / "poles.geojson",
        [
            point(105.33, 20.82, height=9, kind="steel"),
            point(105.34, 20.82, height=12, kind="wood"),
        ],
    )
    with demo_db.session("test") as session:
        importer.import_file(session, path, "poles")
    url = "/ogcapi/collections/poles/items"
    assert [f["properties"]["kind"] for f in client.get(f"{url}?height=12").json()["features"]] == [
        "wood"
    ]
    assert client.get(f"{url}?height=12.0&kind=wood").json()["numberMatched"] == 1
    assert client.get(f"{url}?kind=concrete").json()["numberMatched"] == 0
    assert client.get(f"{url}?height=tall").status_code == 400
    schema = client.get("/ogcapi/collections/poles/queryables").json()
    assert schema["properties"]["height"]["type"] == "integer"
