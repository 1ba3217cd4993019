"""Large batches: many entities written as one statement over arrays (PostgreSQL), and an
upsert that names the same type and location rewriting only the attributes."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text

from ioc.context.batch import STREAM_FROM
from ioc.context.bulk import UNNEST_FROM
from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.core.db import Database, utcnow
from tests.context.conftest import Ngsi, streetlight

COUNT = max(UNNEST_FROM, STREAM_FROM) + 10  # arrays for the updates, a COPY for the history
MOVED = {n for n in range(1, COUNT + 1) if n % 3 == 0}


def sid(n: int) -> str:
    return f"urn:ngsi-ld:Streetlight:{n:03d}"


def near(ngsi: Ngsi, lon: float, lat: float, metres: int, kind: str = "Streetlight") -> list[str]:
    return ngsi.ids(
        type=kind,
        georel=f"near;maxDistance=={metres}",
        geometry="Point",
        coordinates=orjson.dumps([lon, lat]).decode(),
    )


def versions(database: Database) -> dict[str, tuple[int, str]]:
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, version, type FROM ngsi_entities")).all()
    return {row[0]: (row[1], row[2].rsplit("/", 1)[1]) for row in rows}


def upserted(n: int, dimming: int) -> dict[str, Any]:
    if n == 3:  # whole degrees beside fractional ones in the same statement
        return streetlight(n, 106, 21, dimming=dimming)
    if n in MOVED:
        return streetlight(n, 106.0, 21.0 + n / 100_000, dimming=dimming)
    if n == 5:
        return {**streetlight(n, 105.33, 20.81, dimming=dimming), "type": "Lamp"}
    return streetlight(n, 105.33, 20.81, dimming=dimming)


def test_a_large_upsert_moves_what_moved_and_keeps_the_rest(ngsi: Ngsi) -> None:
    made = [streetlight(n, 105.33, 20.81) for n in range(1, COUNT + 1)]
    assert ngsi.post("/entityOperations/create", json=made).status_code == 201
    batch = [upserted(n, n) for n in range(1, COUNT + 1)]
    response = ngsi.post("/entityOperations/upsert", json=batch)
    assert response.status_code == 204, response.text
    moved = sorted(sid(n) for n in MOVED)
    assert near(ngsi, 106.0, 21.0, 1000) == moved
    stayed = [sid(n) for n in range(1, COUNT + 1) if n not in MOVED and n != 5]
    assert near(ngsi, 105.33, 20.81, 50) == stayed
    assert near(ngsi, 105.33, 20.81, 50, "Lamp") == [sid(5)]
    assert ngsi.entity(sid(5))["type"] == "Lamp"
    assert ngsi.entity(sid(7))["dimmingLevel"]["value"] == 7
    assert versions(ngsi.database)[sid(7)] == (2, "Streetlight")
    updated = [d for t, d in ngsi.events() if t == "entity.updated"]
    assert [d["id"] for d in updated] == [sid(n) for n in range(1, COUNT + 1)]
    assert all(len(d["attributes"]) == 3 for d in updated)
    # the same again: nothing moves, every entity is rewritten once more
    again = ngsi.post(
        "/entityOperations/upsert", json=[upserted(n, 1) for n in range(1, COUNT + 1)]
    )
    assert again.status_code == 204, again.text
    assert near(ngsi, 106.0, 21.0, 1000) == moved
    assert {v for v, _ in versions(ngsi.database).values()} == {3}
    with ngsi.database.engine.connect() as conn:
        rows = conn.scalar(text("SELECT count(*) FROM ngsi_attribute_history"))
    assert rows == COUNT * 3 * 3


def test_an_entity_changed_meanwhile_fails_the_group(ngsi: Ngsi) -> None:
    made = [streetlight(n) for n in range(1, COUNT + 1)]
    assert ngsi.post("/entityOperations/create", json=made).status_code == 201
    broker = Broker(ngsi.database, Settings(database_url=ngsi.database.url))
    store = broker.store
    ids = [sid(n) for n in range(1, COUNT + 1)]
    with ngsi.database.engine.connect() as conn:
        found = store.read_many(conn, "default", ids)
        assert sorted(found) == ids
        rows = [store.update_params("default", s, s.attrs, utcnow()) for s in found.values()]
        rows[3]["p_version"] = 7  # another writer got there first
        moved = [
            store.update_params("default", s, s.attrs, utcnow(), "Lamp")
            for s in list(found.values())[: UNNEST_FROM + 1]
        ]
        counts = store.write_together(
            conn, [(store.update_plain, rows), (store.update_located, [])]
        )
        assert counts == [COUNT - 1, 0]
        counts = store.write_together(conn, [(store.update_located, moved)])
        assert counts == [1]  # only entity 4 still has the version read: the others moved on
        conn.rollback()
    assert set(versions(ngsi.database).values()) == {(1, "Streetlight")}


def test_a_large_replace_removes_what_it_leaves_out_and_moves_only_what_moved(ngsi: Ngsi) -> None:
    """A replace reads each stored entity's outline only (its attribute names and location,
    on PostgreSQL): what it drops must still be recorded, and a new location still moves."""
    made = [streetlight(n) for n in range(1, COUNT + 1)]
    assert ngsi.post("/entityOperations/create", json=made).status_code == 201
    batch = []
    for n in range(1, COUNT + 1):
        entity = streetlight(n, 106.0 if n in MOVED else 105.33, 20.81, dimming=n)
        del entity["powerState"]
        batch.append(entity)
    response = ngsi.post("/entityOperations/upsert", json=batch)
    assert response.status_code == 204, response.text
    assert "powerState" not in ngsi.entity(sid(1))
    assert near(ngsi, 106.0, 20.81, 1000) == sorted(sid(n) for n in MOVED)
    updated = [d for t, d in ngsi.events() if t == "entity.updated"]
    assert len(updated) == COUNT
    assert all(any(a.endswith("/powerState") for a in d["attributes"]) for d in updated)
    with ngsi.database.engine.connect() as conn:
        removed = conn.scalar(
            text(
                "SELECT count(*) FROM ngsi_attribute_history "
                "WHERE attr LIKE '%/powerState' AND value IS NULL"
            )
        )
    assert removed == COUNT
