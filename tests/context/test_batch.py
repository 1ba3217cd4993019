"""Batch operations: create, upsert, update, delete, each entity reported on its own."""

from __future__ import annotations

from tests.context.conftest import ERRORS, Ngsi, NgsiFactory, assert_error, streetlight

OPS = "/entityOperations"


def ids(*numbers: int) -> list[str]:
    return [f"urn:ngsi-ld:Streetlight:{n:03d}" for n in numbers]


def test_batch_create_answers_the_created_ids(ngsi: Ngsi) -> None:
    response = ngsi.post(f"{OPS}/create", json=[streetlight(1), streetlight(2), streetlight(3)])
    assert response.status_code == 201, response.text
    assert response.json() == ids(1, 2, 3)
    assert ngsi.ids(type="Streetlight") == ids(1, 2, 3)
    assert [t for t, _ in ngsi.events()] == ["entity.created"] * 3


def test_batch_create_reports_each_failure(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(2))
    batch = [
        streetlight(1),
        streetlight(2),  # exists
        {"id": "lamp 4", "type": "Streetlight"},  # not a URI
        {"id": "urn:ngsi-ld:Streetlight:005", "type": "Streetlight", "bad": 7},  # bare value
        streetlight(6),
        {"id": "urn:ngsi-ld:Streetlight:007"},  # no type
    ]
    response = ngsi.post(f"{OPS}/create", json=batch)
    assert response.status_code == 207, response.text
    result = response.json()
    assert result["success"] == ids(1, 6)
    errors = {e["entityId"]: e["error"] for e in result["errors"]}
    assert set(errors) == {ids(2)[0], "lamp 4", "urn:ngsi-ld:Streetlight:005", ids(7)[0]}
    assert errors[ids(2)[0]]["type"] == ERRORS + "AlreadyExists"
    assert errors[ids(2)[0]]["status"] == 409
    assert errors["lamp 4"]["type"] == ERRORS + "BadRequestData"
    assert "not a URI" in errors["lamp 4"]["detail"]
    assert "bad" in errors["urn:ngsi-ld:Streetlight:005"]["detail"]
    assert "type" in errors[ids(7)[0]]["detail"]
    assert ngsi.ids(type="Streetlight") == ids(1, 2, 6)


def test_upsert_creates_replaces_or_updates(ngsi: Ngsi) -> None:
    created = ngsi.post(f"{OPS}/upsert", json=[streetlight(1), streetlight(2)])
    assert created.status_code == 201 and created.json() == ids(1, 2)

    again = ngsi.post(f"{OPS}/upsert", json=[streetlight(1, power="off"), streetlight(2)])
    assert again.status_code == 204, again.text
    assert ngsi.entity(ids(1)[0], params={"options": "keyValues"})["powerState"] == "off"

    mixed = ngsi.post(f"{OPS}/upsert", json=[streetlight(2, dimming=5), streetlight(3)])
    assert mixed.status_code == 201 and mixed.json() == ids(3)  # only the new ones

    # replace (the default) drops attributes the new version lacks; update keeps them
    slim = {"id": ids(1)[0], "type": "Streetlight", "note": {"type": "Property", "value": 1}}
    assert ngsi.post(f"{OPS}/upsert", json=[slim], params={"options": "update"}).status_code == 204
    assert "powerState" in ngsi.entity(ids(1)[0])
    assert ngsi.post(f"{OPS}/upsert", json=[slim]).status_code == 204
    assert set(ngsi.entity(ids(1)[0])) == {"id", "type", "note"}


def test_update_and_delete(ngsi: Ngsi) -> None:
    ngsi.post(f"{OPS}/create", json=[streetlight(1), streetlight(2)])
    change = [
        {
            "id": ids(1)[0],
            "type": "Streetlight",
            "powerState": {"type": "Property", "value": "off"},
        },
        {"id": ids(2)[0], "powerState": {"type": "Property", "value": "off"}},
    ]
    assert ngsi.post(f"{OPS}/update", json=change).status_code == 204
    keep = ngsi.post(f"{OPS}/update", json=change[:1], params={"options": "noOverwrite"})
    assert keep.status_code == 204
    missing = ngsi.post(
        f"{OPS}/update",
        json=[{"id": ids(9)[0], "powerState": {"type": "Property", "value": "on"}}],
    )
    assert missing.status_code == 207
    assert missing.json()["errors"][0]["error"]["type"] == ERRORS + "ResourceNotFound"

    gone = ngsi.post(f"{OPS}/delete", json=[ids(1)[0], ids(9)[0], "not-a-uri"])
    assert gone.status_code == 207
    result = gone.json()
    assert result["success"] == ids(1)
    assert {e["entityId"]: e["error"]["status"] for e in result["errors"]} == {
        ids(9)[0]: 404,
        "not-a-uri": 400,
    }
    assert ngsi.post(f"{OPS}/delete", json=ids(2)).status_code == 204
    assert ngsi.ids(type="Streetlight") == []


def test_a_batch_over_the_limit_is_refused(ngsi_factory: NgsiFactory) -> None:
    ngsi = ngsi_factory(ngsild_max_batch=3)
    body = assert_error(
        ngsi.post(f"{OPS}/create", json=[streetlight(n) for n in range(4)]), 400, "BadRequestData"
    )
    assert "4 entities" in body["detail"] and "limit of 3" in body["detail"]
    assert ngsi.ids(type="Streetlight") == []
    assert ngsi.post(f"{OPS}/create", json=[streetlight(n) for n in range(3)]).status_code == 201


def test_a_batch_is_an_array_of_entities(ngsi: Ngsi) -> None:
    assert_error(ngsi.post(f"{OPS}/create", json=streetlight(1)), 400, "BadRequestData")
    assert_error(ngsi.post(f"{OPS}/create", json=[]), 400, "BadRequestData")
    assert_error(ngsi.post(f"{OPS}/nonsense", json=[streetlight(1)]), 404, "ResourceNotFound")
