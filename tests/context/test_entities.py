"""Entities over HTTP: create, retrieve in every format, replace, delete; one event per write."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from tests.context.conftest import CORE, DEFAULT, NGSI_LD, Ngsi, assert_error, streetlight

LIGHT = "urn:ngsi-ld:Streetlight:001"


def test_create_then_retrieve_normalized(ngsi: Ngsi) -> None:
    entity = streetlight(
        1,
        refGroup={"type": "Relationship", "object": "urn:ngsi-ld:StreetlightGroup:g1"},
        brightness={
            "type": "Property",
            "value": 0.8,
            "observedAt": "2026-01-05T18:00:00Z",
            "accuracy": {"type": "Property", "value": 0.05},
        },
    )
    response = ngsi.post("/entities", json=entity)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/ngsi-ld/v1/entities/{LIGHT}"
    assert response.content == b""

    got = ngsi.get(f"/entities/{LIGHT}")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert (
        got.headers["link"]
        == f'<{CORE}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    )
    assert got.json() == {key: value for key, value in entity.items()}


def test_keyvalues_concise_and_sysattrs(ngsi: Ngsi) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    ngsi.create(
        streetlight(
            1, refGroup={"type": "Relationship", "object": "urn:ngsi-ld:StreetlightGroup:g1"}
        )
    )
    simple = ngsi.entity(LIGHT, params={"options": "keyValues"})
    assert simple == {
        "id": LIGHT,
        "type": "Streetlight",
        "location": {"type": "Point", "coordinates": [105.33, 20.81]},
        "powerState": "on",
        "dimmingLevel": 80,
        "refGroup": "urn:ngsi-ld:StreetlightGroup:g1",
    }
    assert ngsi.entity(LIGHT, params={"format": "simplified"}) == simple

    concise = ngsi.entity(LIGHT, params={"options": "concise"})
    assert concise["powerState"] == "on"  # a lone value is written bare
    assert concise["dimmingLevel"] == {"value": 80, "unitCode": "P1"}
    assert concise["refGroup"] == {"object": "urn:ngsi-ld:StreetlightGroup:g1"}

    full = ngsi.entity(LIGHT, params={"options": "sysAttrs"})
    created = dt.datetime.fromisoformat(full["createdAt"])
    assert before <= created <= dt.datetime.now(dt.UTC)
    assert full["modifiedAt"] == full["createdAt"]
    assert full["powerState"]["createdAt"] == full["createdAt"]
    assert "createdAt" not in ngsi.entity(LIGHT)["powerState"]

    both = ngsi.entity(LIGHT, params={"options": "keyValues,sysAttrs"})
    assert both["powerState"] == "on" and "createdAt" in both


def test_attrs_keeps_only_the_named_attributes(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    got = ngsi.entity(LIGHT, params={"attrs": "powerState,location"})
    assert set(got) == {"id", "type", "powerState", "location"}


def test_stored_names_are_expanded(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    with ngsi.database.engine.connect() as conn:
        row = conn.execute(
            text("SELECT type, attrs FROM ngsi_entities WHERE id = :id"), {"id": LIGHT}
        ).one()
    attrs = row.attrs if isinstance(row.attrs, dict) else __import__("json").loads(row.attrs)
    assert row.type == DEFAULT + "Streetlight"
    assert set(attrs) == {NGSI_LD + "location", DEFAULT + "powerState", DEFAULT + "dimmingLevel"}


def test_create_twice_is_already_exists(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    body = assert_error(ngsi.post("/entities", json=streetlight(1)), 409, "AlreadyExists")
    assert LIGHT in body["detail"]


def test_unknown_entity_is_not_found(ngsi: Ngsi) -> None:
    assert_error(ngsi.get("/entities/urn:ngsi-ld:Streetlight:nope"), 404, "ResourceNotFound")
    assert_error(ngsi.delete("/entities/urn:ngsi-ld:Streetlight:nope"), 404, "ResourceNotFound")


def test_replace_swaps_every_attribute(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    replacement = {
        "type": "Streetlight",
        "powerState": {"type": "Property", "value": "off"},
        "note": {"type": "Property", "value": "lamp replaced"},
    }
    response = ngsi.put(f"/entities/{LIGHT}", json=replacement)
    assert response.status_code == 204, response.text
    assert ngsi.entity(LIGHT) == {"id": LIGHT, **replacement}
    mismatch = ngsi.put(f"/entities/{LIGHT}", json={**replacement, "id": "urn:ngsi-ld:X:2"})
    assert_error(mismatch, 400, "BadRequestData")


def test_delete_removes_the_entity(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    assert ngsi.delete(f"/entities/{LIGHT}").status_code == 204
    assert_error(ngsi.get(f"/entities/{LIGHT}"), 404, "ResourceNotFound")


def test_ids_with_slashes_travel_percent_encoded(ngsi: Ngsi) -> None:
    weird = "http://example.org/lights/7#a"
    ngsi.create({"id": weird, "type": "Streetlight"})
    assert ngsi.entity("http:%2F%2Fexample.org%2Flights%2F7%23a")["id"] == weird
    patched = ngsi.patch(
        "/entities/http:%2F%2Fexample.org%2Flights%2F7%23a/attrs",
        json={"note": {"type": "Property", "value": 1}},
    )
    assert patched.status_code == 207  # the entity has no note yet: update names it
    assert patched.json()["notUpdated"][0]["attributeName"] == "note"


def test_every_write_is_an_event(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    ngsi.patch(f"/entities/{LIGHT}/attrs/dimmingLevel", json={"value": 20})
    ngsi.post(f"/entities/{LIGHT}/attrs", json={"note": {"type": "Property", "value": "x"}})
    ngsi.delete(f"/entities/{LIGHT}/attrs/note")
    ngsi.delete(f"/entities/{LIGHT}")
    events = ngsi.events()
    assert [t for t, _ in events] == [
        "entity.created",
        "entity.updated",
        "entity.updated",
        "entity.updated",
        "entity.deleted",
    ]
    for _, data in events:
        assert data["id"] == LIGHT and data["type"] == DEFAULT + "Streetlight"
        assert data["tenant"] == "default"
    assert sorted(events[0][1]["attributes"]) == sorted(
        [NGSI_LD + "location", DEFAULT + "powerState", DEFAULT + "dimmingLevel"]
    )
    assert events[1][1]["attributes"] == [DEFAULT + "dimmingLevel"]
    assert events[2][1]["attributes"] == [DEFAULT + "note"]
    assert events[3][1]["attributes"] == [DEFAULT + "note"]


def test_a_refused_write_is_no_event(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    ngsi.post("/entities", json=streetlight(1))  # 409
    ngsi.patch(f"/entities/{LIGHT}/attrs/missing", json={"value": 1})  # 404
    assert [t for t, _ in ngsi.events()] == ["entity.created"]


def test_location_moves_with_the_geoproperty(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1, 105.33, 20.81))
    moved = {"value": {"type": "Point", "coordinates": [105.40, 20.90]}}
    assert ngsi.patch(f"/entities/{LIGHT}/attrs/location", json=moved).status_code == 204
    near_new = {
        "type": "Streetlight",
        "georel": "near;maxDistance==100",
        "geometry": "Point",
        "coordinates": "[105.40,20.90]",
    }
    assert ngsi.ids(**near_new) == [LIGHT]
    assert ngsi.ids(**{**near_new, "coordinates": "[105.33,20.81]"}) == []
