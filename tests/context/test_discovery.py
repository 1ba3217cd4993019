"""GET /types and /attributes: what a tenant holds, in the caller's terms."""

from __future__ import annotations

import pytest

from tests.context.conftest import DEFAULT, NGSI_LD, Ngsi, assert_error, link, streetlight

SDM = "https://smartdatamodels.org/dataModel.Streetlighting/"


@pytest.fixture
def held(ngsi: Ngsi) -> Ngsi:
    cabinet = {
        "id": "urn:ngsi-ld:StreetlightControlCabinet:1",
        "type": "StreetlightControlCabinet",
        "powerState": {"type": "Property", "value": "on"},
        "feeds": {"type": "Relationship", "object": "urn:ngsi-ld:Streetlight:001"},
    }
    batch = [streetlight(1), streetlight(2), cabinet]
    assert ngsi.post("/entityOperations/create", json=batch).status_code == 201
    return ngsi


def test_types(held: Ngsi) -> None:
    listed = held.get("/types").json()
    assert listed["type"] == "EntityTypeList" and listed["id"].startswith(
        "urn:ngsi-ld:EntityTypeList:"
    )
    assert listed["typeList"] == ["Streetlight", "StreetlightControlCabinet"]
    details = held.get("/types", params={"details": "true"}).json()
    assert details == [
        {
            "id": DEFAULT + "Streetlight",
            "type": "EntityType",
            "typeName": "Streetlight",
            "attributeNames": ["dimmingLevel", "location", "powerState"],
        },
        {
            "id": DEFAULT + "StreetlightControlCabinet",
            "type": "EntityType",
            "typeName": "StreetlightControlCabinet",
            "attributeNames": ["feeds", "powerState"],
        },
    ]


def test_one_type(held: Ngsi) -> None:
    info = held.get("/types/Streetlight").json()
    assert info == {
        "id": DEFAULT + "Streetlight",
        "type": "EntityTypeInfo",
        "typeName": "Streetlight",
        "entityCount": 2,
        "attributeDetails": [
            {
                "id": DEFAULT + "dimmingLevel",
                "type": "Attribute",
                "attributeName": "dimmingLevel",
                "attributeTypes": ["Property"],
            },
            {
                "id": NGSI_LD + "location",
                "type": "Attribute",
                "attributeName": "location",
                "attributeTypes": ["GeoProperty"],
            },
            {
                "id": DEFAULT + "powerState",
                "type": "Attribute",
                "attributeName": "powerState",
                "attributeTypes": ["Property"],
            },
        ],
    }
    full_iri = held.get("/types/https:%2F%2Furi.etsi.org%2Fngsi-ld%2Fdefault-context%2FStreetlight")
    assert full_iri.json()["entityCount"] == 2
    assert_error(held.get("/types/Lamp"), 404, "ResourceNotFound")


def test_attributes(held: Ngsi) -> None:
    listed = held.get("/attributes").json()
    assert listed["type"] == "AttributeList"
    assert listed["attributeList"] == ["dimmingLevel", "feeds", "location", "powerState"]
    details = held.get("/attributes", params={"details": "true"}).json()
    assert {d["attributeName"]: d["typeNames"] for d in details} == {
        "dimmingLevel": ["Streetlight"],
        "feeds": ["StreetlightControlCabinet"],
        "location": ["Streetlight"],
        "powerState": ["Streetlight", "StreetlightControlCabinet"],
    }
    power = held.get("/attributes/powerState").json()
    assert power == {
        "id": DEFAULT + "powerState",
        "type": "Attribute",
        "attributeName": "powerState",
        "typeNames": ["Streetlight", "StreetlightControlCabinet"],
        "attributeCount": 3,
        "attributeTypes": ["Property"],
    }
    assert held.get("/attributes/feeds").json()["attributeTypes"] == ["Relationship"]
    assert_error(held.get("/attributes/colour"), 404, "ResourceNotFound")


def test_discovery_compacts_with_the_callers_context(held: Ngsi) -> None:
    context = {"@context": {"Light": DEFAULT + "Streetlight", "power": DEFAULT + "powerState"}}
    url = "https://contexts.example.vn/short.jsonld"
    made = held.post("/jsonldContexts", params={"url": url}, json=context, headers=held.manager)
    assert made.status_code == 201
    headers = {"Link": link(url)}
    assert held.get("/types", headers=headers).json()["typeList"] == [
        "Light",
        "StreetlightControlCabinet",
    ]
    assert held.get("/types/Light", headers=headers).json()["typeName"] == "Light"
    assert "power" in held.get("/attributes", headers=headers).json()["attributeList"]
    assert held.get("/attributes/power", headers=headers).json()["attributeCount"] == 3
