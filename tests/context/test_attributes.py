"""Attributes: append, update, partial update, replace, delete, several instances by datasetId."""

from __future__ import annotations

import time

from tests.context.conftest import Ngsi, assert_error, streetlight

LIGHT = "urn:ngsi-ld:Streetlight:001"
ATTRS = f"/entities/{LIGHT}/attrs"


def test_append_adds_and_overwrites(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    body = {
        "powerState": {"type": "Property", "value": "off"},
        "lampModel": {"type": "Property", "value": "LED-120"},
    }
    assert ngsi.post(ATTRS, json=body).status_code == 204
    got = ngsi.entity(LIGHT, params={"options": "keyValues"})
    assert got["powerState"] == "off" and got["lampModel"] == "LED-120"


def test_append_with_no_overwrite_keeps_existing_ones(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    body = {
        "powerState": {"type": "Property", "value": "off"},
        "lampModel": {"type": "Property", "value": "LED-120"},
    }
    response = ngsi.post(ATTRS, json=body, params={"options": "noOverwrite"})
    assert response.status_code == 207, response.text
    result = response.json()
    assert result["updated"] == ["lampModel"]
    assert [n["attributeName"] for n in result["notUpdated"]] == ["powerState"]
    got = ngsi.entity(LIGHT, params={"options": "keyValues"})
    assert got["powerState"] == "on" and got["lampModel"] == "LED-120"


def test_update_writes_only_existing_attributes(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    ok = ngsi.patch(ATTRS, json={"dimmingLevel": {"type": "Property", "value": 10}})
    assert ok.status_code == 204
    partly = ngsi.patch(
        ATTRS,
        json={
            "dimmingLevel": {"type": "Property", "value": 30},
            "colour": {"type": "Property", "value": "warm"},
        },
    )
    assert partly.status_code == 207
    assert partly.json() == {
        "updated": ["dimmingLevel"],
        "notUpdated": [{"attributeName": "colour", "reason": "the entity has no such attribute"}],
    }
    got = ngsi.entity(LIGHT, params={"options": "keyValues"})
    assert got["dimmingLevel"] == 30 and "colour" not in got
    assert_error(
        ngsi.patch("/entities/urn:ngsi-ld:Streetlight:404/attrs", json={"a": {"value": 1}}),
        404,
        "ResourceNotFound",
    )


def test_partial_update_merges_and_keeps_created_at(ngsi: Ngsi) -> None:
    ngsi.create(
        streetlight(
            1,
            brightness={
                "type": "Property",
                "value": 0.5,
                "unitCode": "P1",
                "accuracy": {"type": "Property", "value": 0.1},
            },
        )
    )
    before = ngsi.entity(LIGHT, params={"options": "sysAttrs"})["brightness"]
    time.sleep(0.002)
    fragment = {
        "value": 0.9,
        "observedAt": "2026-02-01T19:00:00Z",
        "accuracy": {"type": "Property", "value": 0.02},
    }
    assert ngsi.patch(f"{ATTRS}/brightness", json=fragment).status_code == 204
    after = ngsi.entity(LIGHT, params={"options": "sysAttrs"})["brightness"]
    assert after["type"] == "Property" and after["value"] == 0.9
    assert after["unitCode"] == "P1"  # kept: the fragment did not name it
    assert after["observedAt"] == "2026-02-01T19:00:00Z"
    assert after["accuracy"]["value"] == 0.02
    assert after["createdAt"] == before["createdAt"]
    assert after["modifiedAt"] > before["modifiedAt"]


def test_partial_update_checks_the_value_against_the_stored_type(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    bad = ngsi.patch(
        f"{ATTRS}/location", json={"value": {"type": "Point", "coordinates": [500, 1]}}
    )
    body = assert_error(bad, 400, "BadRequestData")
    assert "out of range" in body["detail"]
    assert_error(ngsi.patch(f"{ATTRS}/nothing", json={"value": 1}), 404, "ResourceNotFound")


def test_replace_attribute(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    new = {"type": "Property", "value": 55, "unitCode": "P1", "observedAt": "2026-03-01T00:00:00Z"}
    assert ngsi.put(f"{ATTRS}/dimmingLevel", json=new).status_code == 204
    assert ngsi.entity(LIGHT)["dimmingLevel"] == new
    assert_error(ngsi.put(f"{ATTRS}/nothing", json=new), 404, "ResourceNotFound")


def test_several_instances_by_dataset_id(ngsi: Ngsi) -> None:
    readings = [
        {"type": "Property", "value": 20.5},
        {"type": "Property", "value": 21.0, "datasetId": "urn:ngsi-ld:Dataset:sensor-a"},
        {"type": "Property", "value": 19.5, "datasetId": "urn:ngsi-ld:Dataset:sensor-b"},
    ]
    ngsi.create({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": readings})
    assert ngsi.entity("urn:ngsi-ld:Room:1")["temperature"] == readings
    assert ngsi.entity("urn:ngsi-ld:Room:1", params={"options": "keyValues"})["temperature"] == [
        20.5,
        21.0,
        19.5,
    ]

    fragment = {"value": 22.5, "datasetId": "urn:ngsi-ld:Dataset:sensor-a"}
    path = "/entities/urn:ngsi-ld:Room:1/attrs/temperature"
    assert ngsi.patch(path, json=fragment).status_code == 204
    values = [i["value"] for i in ngsi.entity("urn:ngsi-ld:Room:1")["temperature"]]
    assert values == [20.5, 22.5, 19.5]

    append = {
        "temperature": {"type": "Property", "value": 18, "datasetId": "urn:ngsi-ld:Dataset:c"}
    }
    assert ngsi.post("/entities/urn:ngsi-ld:Room:1/attrs", json=append).status_code == 204
    assert len(ngsi.entity("urn:ngsi-ld:Room:1")["temperature"]) == 4

    gone = ngsi.delete(path, params={"datasetId": "urn:ngsi-ld:Dataset:sensor-b"})
    assert gone.status_code == 204
    left = ngsi.entity("urn:ngsi-ld:Room:1")["temperature"]
    assert [i.get("datasetId") for i in left] == [
        None,
        "urn:ngsi-ld:Dataset:sensor-a",
        "urn:ngsi-ld:Dataset:c",
    ]
    assert ngsi.delete(path).status_code == 204  # the default instance
    assert len(ngsi.entity("urn:ngsi-ld:Room:1")["temperature"]) == 2
    missing = ngsi.delete(path, params={"datasetId": "urn:ngsi-ld:Dataset:zzz"})
    assert_error(missing, 404, "ResourceNotFound")
    assert ngsi.delete(path, params={"deleteAll": "true"}).status_code == 204
    assert "temperature" not in ngsi.entity("urn:ngsi-ld:Room:1")


def test_a_dataset_id_twice_is_refused(ngsi: Ngsi) -> None:
    twice = [
        {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:a"},
        {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:a"},
    ]
    body = assert_error(
        ngsi.post("/entities", json={"id": "urn:ngsi-ld:Room:1", "type": "Room", "t": twice}),
        400,
        "BadRequestData",
    )
    assert "urn:ngsi-ld:Dataset:a" in body["detail"]
    bad_id = [{"type": "Property", "value": 1, "datasetId": "not a uri"}]
    assert_error(
        ngsi.post("/entities", json={"id": "urn:ngsi-ld:Room:1", "type": "Room", "t": bad_id}),
        400,
        "BadRequestData",
    )


def test_delete_attribute(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    assert ngsi.delete(f"{ATTRS}/dimmingLevel").status_code == 204
    assert "dimmingLevel" not in ngsi.entity(LIGHT)
    assert_error(ngsi.delete(f"{ATTRS}/dimmingLevel"), 404, "ResourceNotFound")


def test_relationships_and_other_attribute_types(ngsi: Ngsi) -> None:
    entity = {
        "id": "urn:ngsi-ld:Cabinet:1",
        "type": "StreetlightControlCabinet",
        "feeds": {
            "type": "Relationship",
            "object": ["urn:ngsi-ld:Streetlight:1", "urn:ngsi-ld:Streetlight:2"],
        },
        "name": {
            "type": "LanguageProperty",
            "languageMap": {"vi": "Tủ điện số 1", "en": "Cabinet 1"},
        },
        "category": {"type": "VocabProperty", "vocab": "lighting"},
        "settings": {"type": "JsonProperty", "json": {"on": "18:00", "off": "06:00"}},
        "history": {"type": "ListProperty", "valueList": [1, 2, 3]},
    }
    ngsi.create(entity)
    assert ngsi.entity("urn:ngsi-ld:Cabinet:1") == entity
    simple = ngsi.entity("urn:ngsi-ld:Cabinet:1", params={"options": "keyValues"})
    assert simple["category"] == "lighting" and simple["settings"] == {
        "on": "18:00",
        "off": "06:00",
    }
