"""The Temporal API's reads: history kept by every write, timerel, lastN, representations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ioc.context.temporal_store import HISTORY
from ioc.core.config import Settings
from tests.context.conftest import Ngsi, assert_error, streetlight

LIGHT = "urn:ngsi-ld:Streetlight:001"
T = "/temporal/entities"


def _dim(ngsi: Ngsi, value: int, at: str, entity: str = LIGHT) -> None:
    body = {"value": value, "observedAt": at}
    response = ngsi.patch(f"/entities/{entity}/attrs/dimmingLevel", json=body)
    assert response.status_code == 204, response.text


def _history(ngsi: Ngsi, entity: str = LIGHT, **params: Any) -> dict[str, Any]:
    response = ngsi.get(f"{T}/{entity}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _lit(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1, dimming=80, power="on"))
    for hour, value in ((1, 10), (2, 20), (3, 30)):
        _dim(ngsi, value, f"2026-03-01T0{hour}:00:00Z")


def test_every_write_is_kept(ngsi: Ngsi) -> None:
    _lit(ngsi)
    ngsi.patch(f"/entities/{LIGHT}/attrs", json={"powerState": {"value": "off"}})
    body = _history(ngsi)
    assert body["id"] == LIGHT and body["type"] == "Streetlight"
    dimming = body["dimmingLevel"]
    assert [i["value"] for i in dimming] == [10, 20, 30, 80]  # by observedAt (80: written now)
    assert all(i["type"] == "Property" and i["unitCode"] == "P1" for i in dimming)
    assert [i.get("observedAt") for i in dimming] == [
        "2026-03-01T01:00:00Z",
        "2026-03-01T02:00:00Z",
        "2026-03-01T03:00:00Z",
        None,
    ]
    assert len({i["instanceId"] for i in dimming}) == 4
    assert [i["value"] for i in body["powerState"]] == ["on", "off"]
    assert body["location"][0]["type"] == "GeoProperty"
    sys = _history(ngsi, attrs="powerState", options="sysAttrs")
    assert list(sys) == ["id", "type", "powerState"]
    assert all("createdAt" in i and "modifiedAt" in i for i in sys["powerState"])


def test_timerel_before_after_between(ngsi: Ngsi) -> None:
    _lit(ngsi)

    def values(**params: str) -> list[int]:
        found = _history(ngsi, attrs="dimmingLevel", **params)
        return [i["value"] for i in found.get("dimmingLevel", [])]

    assert values(timerel="before", timeAt="2026-03-01T02:00:00Z") == [10]
    assert values(timerel="after", timeAt="2026-03-01T02:00:00Z") == [20, 30, 80]
    between = {"timeAt": "2026-03-01T01:30:00Z", "endTimeAt": "2026-03-01T03:00:00Z"}
    assert values(timerel="between", **between) == [20]
    # an offset is a moment like any other: 09:00+07:00 is 02:00Z
    assert values(timerel="before", timeAt="2026-03-01T09:00:00+07:00") == [10]
    # nothing in range: the entity, no attributes
    empty = _history(ngsi, timerel="before", timeAt="2000-01-01T00:00:00Z")
    assert empty == {"id": LIGHT, "type": "Streetlight"}


def test_timeproperty_modified_at_is_the_write_time(ngsi: Ngsi) -> None:
    _lit(ngsi)  # observed in 2026-03, written now
    kept = _history(ngsi, attrs="dimmingLevel", timerel="after", timeAt="2026-04-01T00:00:00Z").get(
        "dimmingLevel", []
    )
    assert [i["value"] for i in kept] == [80]  # the creation had no observedAt: now
    written = _history(
        ngsi,
        attrs="dimmingLevel",
        timerel="after",
        timeAt="2026-04-01T00:00:00Z",
        timeproperty="modifiedAt",
    )
    assert len(written["dimmingLevel"]) == 4


def test_last_n(ngsi: Ngsi) -> None:
    _lit(ngsi)
    ngsi.patch(f"/entities/{LIGHT}/attrs", json={"powerState": {"value": "off"}})
    body = _history(ngsi, lastN=2, timerel="before", timeAt="2026-03-01T10:00:00Z")
    assert [i["value"] for i in body["dimmingLevel"]] == [20, 30]
    assert "powerState" not in body  # written now, after timeAt
    body = _history(ngsi, lastN=1)
    assert [i["value"] for i in body["powerState"]] == ["off"]


def test_temporal_values(ngsi: Ngsi) -> None:
    _lit(ngsi)
    friend = {"type": "Relationship", "object": "urn:ngsi-ld:Cabinet:9"}
    ngsi.post(f"/entities/{LIGHT}/attrs", json={"cabinet": friend})
    body = _history(ngsi, options="temporalValues", timerel="before", timeAt="2030-01-01T00:00Z")
    assert body["dimmingLevel"]["type"] == "Property"
    values = body["dimmingLevel"]["values"]
    assert [v for v, _ in values] == [10, 20, 30, 80]
    assert values[0][1] == "2026-03-01T01:00:00.000Z"
    assert body["cabinet"] == {
        "type": "Relationship",
        "objects": [["urn:ngsi-ld:Cabinet:9", body["cabinet"]["objects"][0][1]]],
    }


def test_datasets_and_deletions(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    second = {"type": "Property", "value": 5, "datasetId": "urn:ngsi-ld:dataset:b"}
    ngsi.post(f"/entities/{LIGHT}/attrs", json={"dimmingLevel": second})
    assert ngsi.delete(f"/entities/{LIGHT}/attrs/powerState").status_code == 204
    body = _history(ngsi, attrs="dimmingLevel,powerState", options="temporalValues")
    by_dataset = {e.get("datasetId"): [v for v, _ in e["values"]] for e in body["dimmingLevel"]}
    assert by_dataset == {None: [80], "urn:ngsi-ld:dataset:b": [5]}  # the default not repeated
    assert [v for v, _ in body["powerState"]["values"]] == ["on"]
    normal = _history(ngsi, attrs="powerState")["powerState"]
    assert normal[-1]["value"] == "urn:ngsi-ld:null" and "deletedAt" in normal[-1]
    # the entity's deletion ends every series; the history stays readable
    assert ngsi.delete(f"/entities/{LIGHT}").status_code == 204
    after = _history(ngsi)
    assert after["location"][-1]["value"] == "urn:ngsi-ld:null"


def test_query_temporal_entities(ngsi: Ngsi) -> None:
    for n in (1, 2, 3):
        ngsi.create(streetlight(n, lon=105.33 + n / 100))
        _dim(ngsi, n * 10, "2026-03-01T01:00:00Z", f"urn:ngsi-ld:Streetlight:{n:03d}")
    ngsi.create({"id": "urn:ngsi-ld:Cabinet:1", "type": "Cabinet", "n": {"value": 1}})
    params = {"type": "Streetlight", "timerel": "after", "timeAt": "2026-01-01T00:00:00Z"}
    found = ngsi.get(T, params={**params, "attrs": "dimmingLevel", "count": "true"})
    assert found.status_code == 200, found.text
    assert found.headers["NGSILD-Results-Count"] == "3"
    assert [e["id"] for e in found.json()] == [
        f"urn:ngsi-ld:Streetlight:{n:03d}" for n in (1, 2, 3)
    ]
    assert all(list(e) == ["id", "type", "dimmingLevel"] for e in found.json())
    page = ngsi.get(T, params={**params, "limit": 1, "offset": 1}).json()
    assert [e["id"] for e in page] == ["urn:ngsi-ld:Streetlight:002"]
    pattern = ngsi.get(T, params={**params, "idPattern": ".*:00[13]$"}).json()
    assert [e["id"] for e in pattern] == [
        "urn:ngsi-ld:Streetlight:001",
        "urn:ngsi-ld:Streetlight:003",
    ]
    by_q = ngsi.get(T, params={**params, "q": "dimmingLevel>15"}).json()
    assert [e["id"] for e in by_q] == ["urn:ngsi-ld:Streetlight:002", "urn:ngsi-ld:Streetlight:003"]
    near = {
        "georel": "near;maxDistance==500",
        "geometry": "Point",
        "coordinates": "[105.34,20.81]",
    }
    by_geo = ngsi.get(T, params={**params, **near}).json()
    assert [e["id"] for e in by_geo] == ["urn:ngsi-ld:Streetlight:001"]
    assert ngsi.get(T, params={**params, "type": "Nothing"}).json() == []
    assert_error(
        ngsi.get(T, params={"timerel": "after", "timeAt": "2026-01-01T00:00Z"}),
        400,
        "BadRequestData",
    )


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"timerel": "sometime", "timeAt": "2026-01-01T00:00:00Z"}, "timerel"),
        ({"timerel": "before"}, "timeAt"),
        ({"timerel": "before", "timeAt": "yesterday"}, "timeAt"),
        ({"timerel": "between", "timeAt": "2026-01-02T00:00:00Z"}, "endTimeAt"),
        (
            {"timerel": "between", "timeAt": "2026-01-02T00:00Z", "endTimeAt": "2026-01-01T00:00Z"},
            "endTimeAt",
        ),
        ({"timeAt": "2026-01-01T00:00:00Z"}, "timerel"),
        ({"timeproperty": "seenAt"}, "timeproperty"),
        ({"lastN": "0"}, "lastN"),
        ({"lastN": "many"}, "lastN"),
        ({"options": "aggregatedValues"}, "aggrMethods"),
        ({"options": "aggregatedValues", "aggrMethods": "median"}, "aggrMethods"),
        (
            {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "1H"},
            "aggrPeriodDuration",
        ),
        (
            {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "P1M1D"},
            "aggrPeriodDuration",
        ),
        ({"aggrMethods": "avg"}, "options"),
        ({"options": "temporalValues,aggregatedValues", "aggrMethods": "avg"}, "options"),
    ],
)
def test_bad_parameters_are_named(ngsi: Ngsi, params: dict[str, str], parameter: str) -> None:
    ngsi.create(streetlight(1))
    body = assert_error(ngsi.get(f"{T}/{LIGHT}", params=params), 400, "BadRequestData")
    assert body["detail"].startswith(parameter + ":"), body


def test_unknown_entity_and_tenant(ngsi: Ngsi) -> None:
    assert_error(ngsi.get(f"{T}/urn:ngsi-ld:Streetlight:404"), 404, "ResourceNotFound")
    nowhere = {"NGSILD-Tenant": "nowhere"}
    assert_error(ngsi.get(f"{T}/{LIGHT}", headers=nowhere), 404, "NonexistentTenant")
    assert_error(
        ngsi.put(f"{T}/{LIGHT}", json={}), 405, "https://ioc.example/problems/method-not-allowed"
    )
    assert_error(ngsi.get("/temporal/things"), 404, "ResourceNotFound")


def test_tenants_keep_their_own_history(ngsi: Ngsi) -> None:
    city = {"NGSILD-Tenant": "city"}
    ngsi.create(streetlight(1, dimming=1), headers=city)
    ngsi.create(streetlight(1, dimming=2))
    got = ngsi.get(f"{T}/{LIGHT}", headers=city, params={"options": "temporalValues"}).json()
    assert [v for v, _ in got["dimmingLevel"]["values"]] == [1]


def test_history_commits_with_the_write_and_only_then(ngsi: Ngsi) -> None:
    from ioc.context.entities import NewEntity
    from ioc.context.service import Broker
    from ioc.core.scope import Scope

    broker = Broker(ngsi.database, Settings(database_url=ngsi.database.url))
    entity = NewEntity(
        LIGHT,
        "https://uri.etsi.org/ngsi-ld/default-context/Streetlight",
        {"https://uri.etsi.org/ngsi-ld/default-context/n": [{"type": "Property", "value": 1}]},
    )
    with ngsi.database.sessionmaker() as session:
        broker.create(session, "default", entity, Scope())
        session.rollback()
    with ngsi.database.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(HISTORY)) == 0
        assert broker.store.read(conn, "default", LIGHT) is None
    with broker.writing("test") as session:
        broker.create(session, "default", entity, Scope())
    with ngsi.database.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(HISTORY)) == 1


def test_concurrent_updates_each_leave_one_row(ngsi: Ngsi) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ngsi.create(streetlight(1))

    def write(i: int) -> int:
        body = {"value": i, "observedAt": f"2026-03-01T00:{i:02d}:00Z"}
        return ngsi.patch(f"/entities/{LIGHT}/attrs/dimmingLevel", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(write, range(40))) == {204}
    body = _history(ngsi, options="temporalValues", timerel="before", timeAt="2027-01-01T00:00Z")
    assert sorted(v for v, _ in body["dimmingLevel"]["values"]) == [*range(40), 80]


def test_a_long_history_is_cut_with_206(ngsi: Ngsi, monkeypatch: pytest.MonkeyPatch) -> None:
    import ioc.context.temporal_read as temporal_read

    monkeypatch.setattr(temporal_read, "MAX_INSTANCES", 2)
    _lit(ngsi)
    response = ngsi.get(f"{T}/{LIGHT}", params={"attrs": "dimmingLevel"})
    assert response.status_code == 206, response.text
    assert [i["value"] for i in response.json()["dimmingLevel"]] == [10, 20]
    assert response.headers["Content-Range"] == (
        "date-time 2026-03-01T01:00:00.000Z-2026-03-01T02:00:00.000Z/*"
    )
    last = ngsi.get(f"{T}/{LIGHT}", params={"attrs": "dimmingLevel", "lastN": 3})
    assert last.status_code == 200 and len(last.json()["dimmingLevel"]) == 3


def test_json_ld_answers_carry_the_context(ngsi: Ngsi) -> None:
    _lit(ngsi)
    ld = {"Accept": "application/ld+json"}
    one = ngsi.get(f"{T}/{LIGHT}", headers=ld)
    assert one.status_code == 200 and "@context" in one.json()
    many = ngsi.get(T, params={"type": "Streetlight"}, headers=ld)
    assert many.status_code == 200 and all("@context" in e for e in many.json())
