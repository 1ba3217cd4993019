"""Temporal writes (create, append, delete), who may read and write history, retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ioc.context.errors import BadRequestData
from ioc.context.temporal_retention import parse_retention, prune
from ioc.context.temporal_store import HISTORY
from ioc.core.db import Database
from ioc.core.models import Place
from ioc.core.users import create_api_key
from tests.context.conftest import Ngsi, NgsiFactory, assert_error, make_key, streetlight

T = "/temporal/entities"
METER = "urn:ngsi-ld:Meter:1"
LIGHT = "urn:ngsi-ld:Streetlight:001"
FORBIDDEN = "https://ioc.example/problems/forbidden"


def _values(ngsi: Ngsi, entity: str = METER, **params: Any) -> dict[str, list[Any]]:
    response = ngsi.get(f"{T}/{entity}", params={"options": "temporalValues", **params})
    assert response.status_code == 200, response.text
    return {
        k: [x for x, _ in v["values"]]
        for k, v in response.json().items()
        if isinstance(v, dict) and "values" in v
    }


def _rows(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(HISTORY)) or 0)


def test_create_append_and_delete(ngsi: Ngsi) -> None:
    body = {
        "id": METER,
        "type": "Meter",
        "power": [
            {"type": "Property", "value": 1, "observedAt": "2026-01-01T00:00:00Z"},
            {"type": "Property", "value": 2, "observedAt": "2026-01-01T01:00:00Z"},
        ],
        "voltage": {"type": "Property", "value": 230, "observedAt": "2026-01-01T00:00:00Z"},
    }
    created = ngsi.post(T, json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/ngsi-ld/v1/temporal/entities/{METER}"
    again = ngsi.post(T, json={"id": METER, "type": "Meter", "power": {"value": 3}})
    assert again.status_code == 204, again.text
    assert _values(ngsi) == {"power": [1, 2, 3], "voltage": [230]}
    added = ngsi.post(
        f"{T}/{METER}/attrs", json={"voltage": [{"value": 231, "observedAt": "2026-01-01T02:00Z"}]}
    )
    assert added.status_code == 204, added.text
    assert _values(ngsi)["voltage"] == [230, 231]
    # only history was written: the entity itself does not exist
    assert_error(ngsi.get(f"/entities/{METER}"), 404, "ResourceNotFound")
    assert ngsi.delete(f"{T}/{METER}/attrs/voltage").status_code == 204
    assert _values(ngsi) == {"power": [1, 2, 3]}
    assert_error(ngsi.delete(f"{T}/{METER}/attrs/voltage"), 404, "ResourceNotFound")
    assert ngsi.delete(f"{T}/{METER}").status_code == 204
    assert_error(ngsi.get(f"{T}/{METER}"), 404, "ResourceNotFound")
    assert_error(ngsi.delete(f"{T}/{METER}"), 404, "ResourceNotFound")
    assert_error(
        ngsi.post(f"{T}/{METER}/attrs", json={"power": {"value": 1}}), 404, "ResourceNotFound"
    )
    assert _rows(ngsi.database) == 0


def test_delete_one_dataset(ngsi: Ngsi) -> None:
    body = {
        "id": METER,
        "type": "Meter",
        "power": [{"value": 1}, {"value": 2, "datasetId": "urn:ngsi-ld:dataset:b"}],
    }
    assert ngsi.post(T, json=body).status_code == 201
    gone = ngsi.delete(f"{T}/{METER}/attrs/power", params={"datasetId": "urn:ngsi-ld:dataset:b"})
    assert gone.status_code == 204
    assert _values(ngsi) == {"power": [1]}
    assert ngsi.delete(f"{T}/{METER}/attrs/power", params={"deleteAll": "true"}).status_code == 204
    assert _rows(ngsi.database) == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"type": "Meter", "power": {"value": 1}}, "id"),
        ({"id": METER, "power": {"value": 1}}, "type"),
        ({"id": METER, "type": "Meter"}, "the body"),
        (
            {"id": METER, "type": "Meter", "power": {"value": 1, "observedAt": "noon"}},
            "power.observedAt",
        ),
        ({"id": METER, "type": "Meter", "power": []}, "power"),
    ],
)
def test_bad_temporal_bodies(ngsi: Ngsi, body: dict[str, Any], field: str) -> None:
    found = assert_error(ngsi.post(T, json=body), 400, "BadRequestData")
    assert found["detail"].startswith(field), found


def test_readers_read_and_writers_write(ngsi_factory: NgsiFactory) -> None:
    ngsi = ngsi_factory(ngsild_anonymous="default:read")
    ngsi.create(streetlight(1))
    assert ngsi.get(f"{T}/{LIGHT}", auth=False).status_code == 200
    denied = ngsi.post(T, json={"id": METER, "type": "Meter", "p": {"value": 1}}, auth=False)
    assert denied.status_code == 401
    leader = {"X-API-Key": make_key(ngsi.database, "leader", "dashboard")}
    assert ngsi.get(f"{T}/{LIGHT}", headers=leader).status_code == 200
    refused = ngsi.delete(f"{T}/{LIGHT}", headers=leader)
    assert_error(refused, 403, FORBIDDEN)
    city = {"NGSILD-Tenant": "city"}
    assert ngsi.get(f"{T}/{LIGHT}", auth=False, headers=city).status_code == 401


def test_a_place_scoped_key_sees_only_its_places(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))  # entities carry no place yet: outside every place scope
    with ngsi.database.session("test") as session:
        session.add(
            Place(
                code="17",
                tree="new",
                level="province",
                kind="tinh",
                name="Hòa Bình",
                short_name="Hòa Bình",
                search_key="hoa binh",
                path="17",
            )
        )
        session.flush()
        _, secret = create_api_key(session, "commune device", ["device"], place_code="17")
    scoped = {"X-API-Key": secret}
    assert_error(ngsi.get(f"{T}/{LIGHT}", headers=scoped), 404, "ResourceNotFound")
    listed = ngsi.get(T, params={"type": "Streetlight"}, headers=scoped)
    assert listed.status_code == 200 and listed.json() == []
    write = ngsi.post(T, json={"id": METER, "type": "Meter", "p": {"value": 1}}, headers=scoped)
    assert_error(write, 403, FORBIDDEN)
    assert_error(ngsi.delete(f"{T}/{LIGHT}", headers=scoped), 403, FORBIDDEN)


def test_retention_setting() -> None:
    rules = parse_retention(
        "default=365d, Streetlight=90d,https://x.example/Pump=12h,Meter=forever"
    )
    assert rules.default == dt.timedelta(days=365)
    assert rules.by_type == {
        "https://uri.etsi.org/ngsi-ld/default-context/Streetlight": dt.timedelta(days=90),
        "https://x.example/Pump": dt.timedelta(hours=12),
        "https://uri.etsi.org/ngsi-ld/default-context/Meter": None,
    }
    assert parse_retention("").keeps_everything
    assert parse_retention("Meter=forever").keeps_everything
    for bad in ("default", "default=5y", "Meter=0d", "=3d"):
        with pytest.raises(BadRequestData, match="IOC_NGSILD_RETENTION"):
            parse_retention(bad)
    from pydantic import ValidationError

    from ioc.core.config import Settings

    with pytest.raises(ValidationError, match="ngsild_retention"):
        Settings(ngsild_retention="Streetlight=90 days")


def _series(ngsi: Ngsi, entity: str, kind: str, days_ago: list[int], now: dt.datetime) -> None:
    points = [
        {"value": d, "observedAt": (now - dt.timedelta(days=d)).isoformat()} for d in days_ago
    ]
    assert ngsi.post(T, json={"id": entity, "type": kind, "v": points}).status_code == 201


def test_prune_by_type(ngsi: Ngsi, monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime.now(dt.UTC)
    ages = [1, 50, 100, 400]
    _series(ngsi, LIGHT, "Streetlight", ages, now)
    _series(ngsi, METER, "Meter", ages, now)
    _series(ngsi, "urn:ngsi-ld:Pump:1", "Pump", ages, now)
    rules = parse_retention("default=365d,Streetlight=90d,Pump=forever")
    done = prune(ngsi.database, rules, now)
    assert done == {"Streetlight": 2, "default": 1}
    assert _values(ngsi, LIGHT)["v"] == [50, 1]
    assert _values(ngsi, METER)["v"] == [100, 50, 1]
    assert _values(ngsi, "urn:ngsi-ld:Pump:1")["v"] == [400, 100, 50, 1]
    # the CLI does the same with the setting (or --retention)
    from ioc.cli import app

    monkeypatch.setenv("IOC_DATABASE_URL", ngsi.database.url)
    result = CliRunner().invoke(app, ["context", "prune", "--retention", "default=30d"])
    assert result.exit_code == 0, result.output
    assert "default: 6 history rows deleted" in result.output  # every type past 30 days
    assert _values(ngsi, METER)["v"] == [1]
    monkeypatch.setenv("IOC_NGSILD_RETENTION", "")
    result = CliRunner().invoke(app, ["context", "prune"])
    assert result.exit_code == 0 and "nothing to prune" in result.output
    bad = CliRunner().invoke(app, ["context", "prune", "--retention", "default=soon"])
    assert bad.exit_code != 0 and "IOC_NGSILD_RETENTION" in bad.output


def test_the_server_prunes_in_the_background(
    ngsi_factory: NgsiFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import ioc.context.temporal_retention as retention

    monkeypatch.setattr(retention, "FIRST_PRUNE", 0.2)
    writer = ngsi_factory()
    now = dt.datetime.now(dt.UTC)
    _series(writer, METER, "Meter", [1, 10], now)
    ngsi_factory(ngsild_retention="default=5d")  # a second server, pruning
    deadline = time.monotonic() + 10
    while _rows(writer.database) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _values(writer)["v"] == [1]
