"""Helpers for the devices tests: the demo province over HTTP, NGSI-LD writes, keys, events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from ioc.core.db import Database
from ioc.core.models import OutboxEvent
from tests.context.conftest import make_key, ngsi_factory  # noqa: F401  (a fixture)

# Points in Hòa Bình (legacy tree) and the commune each falls in.
DA_BAC_TOWN = (20.874563, 105.251663)  # 04831 Thị trấn Đà Bắc, district 150 Đà Bắc
THAI_BINH = (20.784269, 105.318973)  # 04789 Phường Thái Bình, district 148 TP Hòa Bình
TAN_HOA = (20.855494, 105.333609)  # 04792 Phường Tân Hòa, district 148


class Devices:
    """The demo app with an operator, a district admin (Đà Bắc) and a device key."""

    def __init__(self, client: TestClient, database: Database, auth: Callable[..., dict[str, str]]):
        self.client = client
        self.database = database
        self.operator = auth("vanhanh")
        self.leader = auth("lanhdao")
        self.dabac = auth("dabac")
        self.device = {"X-API-Key": make_key(database, "device", "camera analytics")}

    def ngsi(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        headers = {**self.device, **kw.pop("headers", {})}
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = orjson.dumps(body)
        return self.client.request(
            method, "/ngsi-ld/v1" + path, content=content, headers=headers, **kw
        )

    def create(self, entity: dict[str, Any]) -> None:
        response = self.ngsi("POST", "/entities", entity)
        assert response.status_code == 201, response.text

    def events(self, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        with self.database.session() as session:
            rows = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type.startswith(prefix))
                .order_by(OutboxEvent.id)
            )
            return [(row.type, row.data) for row in rows]


@pytest.fixture
def dev(client: TestClient, demo_db: Database, auth: Callable[..., dict[str, str]]) -> Devices:
    return Devices(client, demo_db, auth)


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def rel(target: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def point(at: tuple[float, float]) -> dict[str, Any]:
    lat, lon = at
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}
