"""Who may use the NGSI-LD API, and tenants kept apart."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from ioc.core.db import Database, utcnow
from ioc.core.models import ApiKey
from tests.context.conftest import BASE, Ngsi, NgsiFactory, assert_error, make_key, streetlight

Auth = Callable[..., dict[str, str]]
LIGHT = "urn:ngsi-ld:Streetlight:001"
FORBIDDEN = "https://ioc.example/problems/forbidden"
UNAUTHORIZED = "https://ioc.example/problems/unauthorized"


def test_credentials_are_needed_by_default(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    assert_error(ngsi.get(f"/entities/{LIGHT}", auth=False), 401, UNAUTHORIZED)
    assert_error(ngsi.post("/entities", json=streetlight(2), auth=False), 401, UNAUTHORIZED)
    bad = {"X-API-Key": "ioc_deadbeef_notakey"}
    assert_error(ngsi.get(f"/entities/{LIGHT}", auth=False, headers=bad), 401, UNAUTHORIZED)
    bearer = {"Authorization": f"Bearer {ngsi.key}"}
    assert ngsi.get(f"/entities/{LIGHT}", auth=False, headers=bearer).status_code == 200


@pytest.mark.parametrize(
    "user, can_read, can_write",
    [
        ("admin", True, True),
        ("vanhanh", True, True),  # operator
        ("lanhdao", True, False),  # leader
        ("sotttt", True, False),  # agency staff
        ("congdan", False, False),  # citizen
    ],
)
def test_roles(client: TestClient, auth: Auth, user: str, can_read: bool, can_write: bool) -> None:
    admin = auth("admin")
    made = client.post(f"{BASE}/entities", json=streetlight(1), headers=admin)
    assert made.status_code == 201, made.text
    headers = auth(user)
    read = client.get(f"{BASE}/entities/{LIGHT}", headers=headers)
    assert read.status_code == (200 if can_read else 403), read.text
    write = client.patch(
        f"{BASE}/entities/{LIGHT}/attrs/dimmingLevel", json={"value": 5}, headers=headers
    )
    assert write.status_code == (204 if can_write else 403), write.text
    if not can_write:
        assert_error(write, 403, FORBIDDEN)


def test_events_name_who_wrote(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    from sqlalchemy import select

    from ioc.core.models import OutboxEvent

    with ngsi.database.session() as session:
        actor = session.scalar(
            select(OutboxEvent.actor).where(OutboxEvent.type == "entity.created")
        )
    assert actor is not None and actor.startswith("apikey:") and "test device" in actor


def test_anonymous_tenants(ngsi_factory: NgsiFactory) -> None:
    ngsi = ngsi_factory(ngsild_anonymous="default:read,city:write")
    ngsi.create(streetlight(1))  # with the device key
    assert ngsi.get(f"/entities/{LIGHT}", auth=False).status_code == 200
    assert_error(ngsi.post("/entities", json=streetlight(2), auth=False), 401, UNAUTHORIZED)
    city = {"NGSILD-Tenant": "city"}
    created = ngsi.post("/entities", json=streetlight(3), auth=False, headers=city)
    assert created.status_code == 201, created.text
    assert (
        ngsi.get("/entities/urn:ngsi-ld:Streetlight:003", auth=False, headers=city).status_code
        == 200
    )
    other = {"NGSILD-Tenant": "other"}
    assert_error(
        ngsi.post("/entities", json=streetlight(4), auth=False, headers=other), 401, UNAUTHORIZED
    )
    # a wrong key is refused even where anonymous access is open
    wrong = {"X-API-Key": "ioc_00000000_wrong", **city}
    assert_error(
        ngsi.get("/entities/urn:ngsi-ld:Streetlight:003", auth=False, headers=wrong),
        401,
        UNAUTHORIZED,
    )


def test_a_bad_anonymous_setting_is_refused() -> None:
    from pydantic import ValidationError

    from ioc.core.config import Settings

    with pytest.raises(ValidationError, match="IOC_NGSILD_ANONYMOUS"):
        Settings(ngsild_anonymous="default:everything")


def test_tenants_are_isolated(ngsi: Ngsi) -> None:
    city, farm = {"NGSILD-Tenant": "city"}, {"NGSILD-Tenant": "farm-2"}
    ngsi.create(streetlight(1), headers=city)
    ngsi.create(streetlight(1, power="off"), headers=farm)  # the same id, another tenant
    assert ngsi.entity(LIGHT, headers=city)["powerState"]["value"] == "on"
    assert ngsi.entity(LIGHT, headers=farm)["powerState"]["value"] == "off"
    answered = ngsi.get(f"/entities/{LIGHT}", headers=city)
    assert answered.headers["NGSILD-Tenant"] == "city"
    assert_error(ngsi.get(f"/entities/{LIGHT}"), 404, "ResourceNotFound")  # default tenant
    assert ngsi.ids(type="Streetlight", headers=city) == [LIGHT]
    assert ngsi.ids(type="Streetlight") == []
    ngsi.delete(f"/entities/{LIGHT}", headers=farm)
    assert ngsi.entity(LIGHT, headers=city)["id"] == LIGHT
    assert ngsi.get("/types", headers=farm).json()["typeList"] == []
    events = ngsi.events()
    assert [(t, d["tenant"]) for t, d in events] == [
        ("entity.created", "city"),
        ("entity.created", "farm-2"),
        ("entity.deleted", "farm-2"),
    ]


def test_an_unknown_tenant_is_not_found_until_written(ngsi: Ngsi) -> None:
    nowhere = {"NGSILD-Tenant": "nowhere"}
    assert_error(ngsi.get(f"/entities/{LIGHT}", headers=nowhere), 404, "NonexistentTenant")
    assert_error(
        ngsi.get("/entities", params={"type": "Streetlight"}, headers=nowhere),
        404,
        "NonexistentTenant",
    )
    assert_error(ngsi.get("/types", headers=nowhere), 404, "NonexistentTenant")
    ngsi.create(streetlight(1), headers=nowhere)
    assert ngsi.ids(type="Streetlight", headers=nowhere) == [LIGHT]
    bad = {"NGSILD-Tenant": "no spaces please"}
    assert_error(ngsi.get(f"/entities/{LIGHT}", headers=bad), 400, "BadRequestData")


def test_a_revoked_key_stops_at_once_without_the_cache(
    ngsi_factory: NgsiFactory, database: Database
) -> None:
    ngsi = ngsi_factory(ngsild_credential_seconds=0)
    key = make_key(database, "device", "revoked soon")
    headers = {"X-API-Key": key}
    assert (
        ngsi.post("/entities", json=streetlight(1), auth=False, headers=headers).status_code == 201
    )
    with database.session() as session:
        session.execute(
            update(ApiKey).where(ApiKey.name == "revoked soon").values(revoked_at=utcnow())
        )
    assert_error(ngsi.get(f"/entities/{LIGHT}", auth=False, headers=headers), 401, UNAUTHORIZED)
