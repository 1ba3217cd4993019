"""Every error leaves as NGSI-LD ProblemDetails (application/json) naming what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from tests.context.conftest import Ngsi, NgsiFactory, assert_error, streetlight

LIGHT = "urn:ngsi-ld:Streetlight:001"


def entity(**attrs: Any) -> dict[str, Any]:
    return {"id": LIGHT, "type": "Streetlight", **attrs}


def test_invalid_json_is_invalid_request(ngsi: Ngsi) -> None:
    response = ngsi.post(
        "/entities",
        content=b'{"id": "urn:x:1", "type": ',
        headers={"Content-Type": "application/json"},
    )
    body = assert_error(response, 400, "InvalidRequest")
    assert "not valid JSON" in body["detail"]
    assert body["status"] == 400 and body["instance"] == "/ngsi-ld/v1/entities"


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"id": "lamp one", "type": "Streetlight"}, "id: 'lamp one' is not a URI"),
        ({"id": 17, "type": "Streetlight"}, "id: must be a URI"),
        ({"type": "Streetlight"}, "id: must be a URI"),
        ({"id": LIGHT}, "type: an entity needs a type"),
        (entity(power=5), "power: an attribute is an object"),
        (entity(power={"value": None}), "needs a non-null 'value'"),
        (entity(power={"type": "Attribute", "value": 1}), "'Attribute' is not an attribute type"),
        (entity(power={"type": "Property"}), "needs a non-null 'value'"),
        (entity(power={"unitCode": "P1"}), "neither a type nor a value"),
        (entity(power={"type": "Property", "value": 1, "object": "urn:x:1"}), "no 'object'"),
        (entity(feeds={"type": "Relationship", "object": "lamp 2"}), "feeds.object"),
        (entity(power={"type": "Property", "value": 1, "observedAt": "yesterday"}), "observedAt"),
        (entity(power={"type": "Property", "value": 1, "note": [1, 2]}), "power.note"),
        (entity(**{"bad name": {"type": "Property", "value": 1}}), "not a valid attribute name"),
        (entity(power=[]), "at least one instance"),
        ([streetlight(1)], "the body must be a JSON object"),
    ],
)
def test_bad_entities_are_bad_request_data(ngsi: Ngsi, body: Any, detail: str) -> None:
    problem = assert_error(ngsi.post("/entities", json=body), 400, "BadRequestData")
    assert detail in problem["detail"], problem["detail"]
    assert ngsi.events() == []


def test_unsupported_features_are_operation_not_supported(ngsi: Ngsi) -> None:
    several = {"id": LIGHT, "type": ["Streetlight", "Device"]}
    assert_error(ngsi.post("/entities", json=several), 422, "OperationNotSupported")
    scoped = {"id": LIGHT, "type": "Streetlight", "scope": "/HoaBinh"}
    assert_error(ngsi.post("/entities", json=scoped), 422, "OperationNotSupported")
    assert ngsi.post("/entities", json={"id": LIGHT, "type": ["Streetlight"]}).status_code == 201


def test_media_types_and_methods(ngsi: Ngsi) -> None:
    form = ngsi.post(
        "/entities",
        content=b"id=urn:x:1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    problem = assert_error(form, 415, "https://ioc.example/problems/unsupported-media-type")
    assert problem["status"] == 415
    assert_error(
        ngsi.post("/entities", content=b"{}"),
        415,
        "https://ioc.example/problems/unsupported-media-type",
    )
    wrong = ngsi.request("PATCH", "/entities", json={})
    assert_error(wrong, 405, "https://ioc.example/problems/method-not-allowed")
    assert_error(
        ngsi.get("/entities/urn:x:1/attrs"), 405, "https://ioc.example/problems/method-not-allowed"
    )
    assert_error(ngsi.get("/csourceRegistrations"), 404, "ResourceNotFound")
    assert_error(ngsi.get("/"), 404, "ResourceNotFound")


def test_an_oversized_body_keeps_the_ngsi_ld_shape(ngsi_factory: NgsiFactory) -> None:
    ngsi = ngsi_factory(max_body_bytes=2048)
    big = entity(note={"type": "Property", "value": "x" * 4000})
    response = ngsi.post("/entities", json=big)
    problem = assert_error(response, 413, "https://ioc.example/problems/payload-too-large")
    assert "2,048" in problem["detail"]

    def chunks() -> Any:  # streamed, no Content-Length: the limit trips while reading
        yield b'{"id": "urn:x:1", "type": "T", "n": {"value": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}}'

    streamed = ngsi.client.post(
        "/ngsi-ld/v1/entities",
        content=chunks(),
        headers={"Content-Type": "application/json", **ngsi.headers},
    )
    assert_error(streamed, 413, "https://ioc.example/problems/payload-too-large")


def test_not_found_names_the_entity(ngsi: Ngsi) -> None:
    body = assert_error(ngsi.get("/entities/urn:ngsi-ld:Streetlight:404"), 404, "ResourceNotFound")
    assert "urn:ngsi-ld:Streetlight:404" in body["detail"]
    assert_error(ngsi.get("/entities/not-a-uri"), 400, "BadRequestData")
