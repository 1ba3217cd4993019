"""The devices REST API (roles, scope) and the IoT Agent JSON HTTP south port."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import select
from starlette.testclient import TestClient

from ioc.core import users
from ioc.core.db import Database
from ioc.core.models import Place
from ioc.demo.builder import DEMO_PASSWORD
from tests.ingest.conftest import (
    MQTT_URL,
    Publisher,
    dead_letters,
    forget_session,
    value,
    wait_for,
)

Auth = Callable[..., dict[str, str]]


def district(database: Database, short_name: str) -> tuple[str, str]:
    """(district code, one of its communes' codes)."""
    with database.session() as session:
        code = session.scalar(
            select(Place.code).where(Place.level == "district", Place.short_name == short_name)
        )
        commune = session.scalar(select(Place.code).where(Place.parent_code == code).limit(1))
    assert code and commune
    return code, commune


def station(device_id: str, place: str | None, **extra: object) -> dict[str, object]:
    return {
        "device_id": device_id,
        "apikey": "hbkey",
        "entity_type": "WeatherObserved",
        "attributes": [
            {"object_id": "t", "name": "temperature", "type": "Number", "unit_code": "CEL"},
            {"object_id": "h", "name": "relativeHumidity", "type": "Integer"},
        ],
        "commands": ["reboot"],
        "place_code": place,
        **extra,
    }


def test_roles_and_scope(client: TestClient, auth: Auth, demo_db: Database) -> None:
    da_bac, da_bac_commune = district(demo_db, "Đà Bắc")
    other, other_commune = district(demo_db, "Mai Châu")
    with demo_db.session("test") as session:
        fields = users.UserFields(roles=["operator"], place_code=da_bac)
        users.create_user(session, "vanhanh.dabac", DEMO_PASSWORD, fields)
    operator, scoped = auth("vanhanh"), auth("vanhanh.dabac")

    assert client.get("/api/v1/devices").status_code == 401
    for who in ("lanhdao", "congdan", "sotttt"):
        response = client.get("/api/v1/devices", headers=auth(who))
        assert response.status_code == 403, who
        assert response.headers["content-type"] == "application/problem+json"

    made = client.post("/api/v1/devices", json=station("ws-db", da_bac_commune), headers=operator)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["entity_id"] == "urn:ngsi-ld:WeatherObserved:ws-db"
    assert body["attributes"][0] == {
        "object_id": "t",
        "name": "temperature",
        "type": "Number",
        "unit_code": "CEL",
    }
    assert client.post("/api/v1/devices", json=station("ws-mc", other_commune), headers=operator)
    again = client.post("/api/v1/devices", json=station("ws-db", None), headers=operator)
    assert again.status_code == 409

    listed = client.get("/api/v1/devices", headers=scoped).json()
    assert [d["device_id"] for d in listed] == ["ws-db"]
    assert len(client.get("/api/v1/devices", headers=operator).json()) == 2
    assert client.get("/api/v1/devices/ws-mc", headers=scoped).status_code == 404
    outside = client.post("/api/v1/devices", json=station("ws-x", other_commune), headers=scoped)
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "place_code"
    command = {"name": "reboot", "value": True}
    assert (
        client.post("/api/v1/devices/ws-mc/commands", json=command, headers=scoped).status_code
        == 404
    )
    assert client.delete("/api/v1/devices/ws-mc", headers=scoped).status_code == 404
    moved = client.patch("/api/v1/devices/ws-db", json={"place_code": other}, headers=scoped)
    assert moved.status_code == 422

    sent = client.post("/api/v1/devices/ws-db/commands", json=command, headers=scoped)
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "PENDING" and sent.json()["value"] is True
    assert sent.json()["actor"] == "user:vanhanh.dabac"
    wrong = client.post(
        "/api/v1/devices/ws-db/commands", json={"name": "fly", "value": 1}, headers=scoped
    )
    assert wrong.status_code == 422
    listed_commands = client.get("/api/v1/devices/ws-db/commands", headers=scoped).json()
    assert [c["name"] for c in listed_commands] == ["reboot"]
    one = client.get(f"/api/v1/devices/ws-db/commands/{sent.json()['id']}", headers=scoped)
    assert one.status_code == 200 and one.json()["status"] == "PENDING"
    elsewhere = client.get(f"/api/v1/devices/ws-mc/commands/{sent.json()['id']}", headers=operator)
    assert elsewhere.status_code == 404

    patched = client.patch(
        "/api/v1/devices/ws-db", json={"commands": ["reboot", "ping"]}, headers=operator
    )
    assert patched.status_code == 200 and patched.json()["commands"] == ["reboot", "ping"]
    assert client.delete("/api/v1/devices/ws-mc", headers=operator).status_code == 204
    assert client.get("/api/v1/devices/ws-mc", headers=operator).status_code == 404


def test_http_measurements(client: TestClient, auth: Auth, demo_db: Database) -> None:
    da_bac, da_bac_commune = district(demo_db, "Đà Bắc")
    _, other_commune = district(demo_db, "Mai Châu")
    operator = auth("vanhanh")
    for device_id, place in (("ws-h1", da_bac_commune), ("ws-h2", other_commune)):
        made = client.post("/api/v1/devices", json=station(device_id, place), headers=operator)
        assert made.status_code == 201, made.text

    ok = client.post(
        "/iot/json",
        params={"k": "hbkey", "i": "ws-h1"},
        json={"t": 24.5, "h": 71, "TimeInstant": "2026-11-26T09:00:00+07:00"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {}
    temperature = value(demo_db, "ws-h1", "temperature")
    assert temperature["value"] == 24.5
    assert temperature["observedAt"] == "2026-11-26T02:00:00.000Z"

    # the device asks for its pending commands with its measurement
    command = {"name": "reboot", "value": "now"}
    assert client.post("/api/v1/devices/ws-h1/commands", json=command, headers=operator)
    polled = client.post("/iot/json?k=hbkey&i=ws-h1&getCmd=1", json={"t": 25})
    assert polled.json() == {"reboot": "now"}
    listed = client.get("/api/v1/devices/ws-h1/commands", headers=operator).json()
    assert listed[0]["status"] == "SENT"
    assert value(demo_db, "ws-h1", "reboot_status")["value"] == "SENT"

    unknown = client.post("/iot/json?k=hbkey&i=nobody", json={"t": 1})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    wrong_key = client.post("/iot/json?k=other&i=ws-h1", json={"t": 1})
    assert wrong_key.status_code == 404
    bad_json = client.post(
        "/iot/json?k=hbkey&i=ws-h1", content=b"{t:", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    bad_type = client.post("/iot/json?k=hbkey&i=ws-h2", json={"h": "humid"})
    assert bad_type.status_code == 400
    assert "h: expected Integer" in bad_type.json()["detail"]
    letters = dead_letters(demo_db)
    assert [letter.device_id for letter in letters] == ["nobody", "ws-h1", "ws-h1", "ws-h2"]
    assert letters[0].topic == "http:/iot/json?k=hbkey&i=nobody"

    # the dead-letter list: newest first, scoped by the devices' places
    everything = client.get("/api/v1/ingest/deadletters", headers=operator)
    assert [d["device_id"] for d in everything.json()] == ["ws-h2", "ws-h1", "ws-h1", "nobody"]
    with demo_db.session("test") as session:
        fields = users.UserFields(roles=["operator"], place_code=da_bac)
        users.create_user(session, "vanhanh.dabac", DEMO_PASSWORD, fields)
    scoped = client.get("/api/v1/ingest/deadletters", headers=auth("vanhanh.dabac"))
    assert [d["device_id"] for d in scoped.json()] == ["ws-h1", "ws-h1"]
    assert client.get("/api/v1/ingest/deadletters", headers=auth("lanhdao")).status_code == 403


def test_serve_runs_the_bridge_when_mqtt_is_set(
    app_factory: Callable[..., TestClient], demo_db: Database
) -> None:
    client_id = "ioc-test-serve-" + uuid.uuid4().hex[:8]
    key = "k" + uuid.uuid4().hex[:8]
    client = app_factory(mqtt_url=MQTT_URL, ingest_client_id=client_id)
    publisher = Publisher()
    try:
        token = client.post(
            "/api/v1/auth/token", data={"username": "vanhanh", "password": DEMO_PASSWORD}
        ).json()["access_token"]
        body = {**station("ws-serve", None), "apikey": key}
        made = client.post(
            "/api/v1/devices", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert made.status_code == 201, made.text

        def arrived() -> bool:
            publisher.send(f"/{key}/ws-serve/attrs", {"t": 18.5})
            time.sleep(0.2)
            return value(demo_db, "ws-serve", "temperature") is not None

        wait_for(arrived, timeout=20, what="the in-process bridge to store a measurement")
        assert value(demo_db, "ws-serve", "temperature")["value"] == 18.5
    finally:
        publisher.close()
        client.__exit__(None, None, None)
        forget_session(client_id)
