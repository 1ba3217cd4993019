"""Feedback reports and cameras as collections, read through their capabilities' public reads."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient


def test_feedback_reports_are_what_open311_shows(client: TestClient) -> None:
    open311 = client.get("/open311/v2/requests.json").json()
    located = {str(r["service_request_id"]) for r in open311 if r.get("lat") is not None}
    doc = client.get("/ogcapi/collections/feedback-reports/items?limit=1000").json()
    assert doc["numberMatched"] == len(located) > 0
    assert {f["id"] for f in doc["features"]} == located
    first = doc["features"][0]
    one = client.get(f"/ogcapi/collections/feedback-reports/items/{first['id']}").json()
    assert one["geometry"] == first["geometry"]
    code = first["properties"]["service_code"]
    same = client.get(f"/ogcapi/collections/feedback-reports/items?service_code={code}&limit=1000")
    assert {f["properties"]["service_code"] for f in same.json()["features"]} == {code}
    bad = client.get("/ogcapi/collections/feedback-reports/items?service_code=nope")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "service_code"
    wide = client.get("/ogcapi/collections/feedback-reports/items?datetime=2020-01-01/2024-01-01")
    assert wide.status_code == 400 and wide.json()["errors"][0]["field"] == "datetime"


def test_cameras_for_staff_in_scope_only(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    operator = auth("vanhanh")
    body = {
        "id": "urn:ngsi-ld:Camera:gis-1",
        "name": "Ngã tư Tân Thịnh",
        "lat": 20.8219,
        "lon": 105.3295,
        "camera_type": "PTZ",
    }
    assert client.post("/api/v1/cameras", json=body, headers=operator).status_code == 201
    url = "/ogcapi/collections/cameras/items"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth("congdan")).status_code == 403
    doc = client.get(url, headers=operator).json()
    assert [f["id"] for f in doc["features"]] == ["urn:ngsi-ld:Camera:gis-1"]
    assert doc["features"][0]["geometry"]["coordinates"] == [105.3295, 20.8219]
    assert client.get(url, headers=auth("dabac")).json()["numberMatched"] == 0  # another district
    ids = [c["id"] for c in client.get("/ogcapi/collections").json()["collections"]]
    assert {"feedback-reports", "streetlights", "cameras"} <= set(ids)


def test_streetlights_from_the_broker(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    operator = auth("vanhanh")
    light = {
        "id": "urn:ngsi-ld:Streetlight:gis-1",
        "type": "Streetlight",
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [105.3295, 20.8219]},
        },
        "powerState": {"type": "Property", "value": "on"},
    }
    created = client.post("/ngsi-ld/v1/entities", json=light, headers=operator)
    assert created.status_code == 201, created.text
    doc = client.get("/ogcapi/collections/streetlights/items", headers=operator).json()
    assert [f["id"] for f in doc["features"]] == ["urn:ngsi-ld:Streetlight:gis-1"]
    assert doc["features"][0]["properties"]["powerState"] == "on"
    assert doc["features"][0]["properties"]["place_code"] == "04807"  # as places.locate says
    outside = client.get(
        "/ogcapi/collections/streetlights/items?bbox=105.0,20.0,105.1,20.1", headers=operator
    )
    assert outside.json()["numberMatched"] == 0
