"""Grouped writes: a group's single-entity edits are written together at commit, a batch's
entities in a few statements, and each job or entity keeps its own outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ioc.context.entities import NewEntity, parse_attributes, parse_entity
from ioc.context.errors import ResourceNotFound
from ioc.context.geo import LOCATION
from ioc.context.jsonld import CORE_TERMS
from ioc.context.service import Broker
from ioc.context.temporal_store import HISTORY
from ioc.context.writer import GROUPED
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.models import OutboxEvent
from ioc.core.scope import Scope
from tests.context.conftest import DEFAULT, Ngsi, streetlight

EVERYWHERE = Scope.everywhere()
TENANT = "default"
Work = Callable[[Session], Any]


def sid(n: int) -> str:
    return f"urn:ngsi-ld:Streetlight:{n:03d}"


@pytest.fixture
def broker(database: Database) -> Broker:
    broker = Broker(database, Settings(database_url=database.url))
    for n in (1, 2, 3):
        entity = parse_entity(streetlight(n), CORE_TERMS)

        def create(session: Session, entity: NewEntity = entity) -> Any:
            return broker.create(session, TENANT, entity, EVERYWHERE)

        broker.writer.run_now(create, "test")
    return broker


def in_one_group(broker: Broker, works: list[Work]) -> list[Any]:
    """Run ``works`` through the broker's group writer as one group; results or errors."""

    async def go() -> list[Any]:
        started, release = threading.Event(), threading.Event()

        def block(_session: Session) -> None:
            started.set()
            release.wait(10)

        blocker = asyncio.ensure_future(broker.writer.run(block, "test", None))
        await asyncio.to_thread(started.wait, 10)
        queued = [asyncio.ensure_future(broker.writer.run(w, "test", None)) for w in works]
        await asyncio.sleep(0.05)  # every job is queued while the blocker holds the thread
        release.set()
        await blocker
        return await asyncio.gather(*queued, return_exceptions=True)

    return asyncio.run(go())


def patch(broker: Broker, n: int, name: str, fragment: dict[str, Any]) -> Work:
    return lambda s: broker.patch_attribute(
        s, TENANT, sid(n), DEFAULT + name, fragment, CORE_TERMS, EVERYWHERE
    )


def dimming(broker: Broker, n: int) -> Any:
    with broker.database.engine.connect() as conn:
        stored = broker.store.read(conn, TENANT, sid(n))
    assert stored is not None
    return stored.attrs[DEFAULT + "dimmingLevel"][0]["value"], stored.version


def events(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(
            select(OutboxEvent.type, OutboxEvent.subject)
            .where(OutboxEvent.type.startswith("entity."))
            .order_by(OutboxEvent.id)
        )
        return [(t, s or "") for t, s in rows]


def history(database: Database, n: int, attr: str) -> list[Any]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(HISTORY.c.value)
            .where(HISTORY.c.entity_id == sid(n), HISTORY.c.attr == DEFAULT + attr)
            .order_by(HISTORY.c.id)
        )
        return [v for (v,) in rows]


def test_grouped_patches_keep_each_outcome(broker: Broker, database: Database) -> None:
    before = events(database)
    moved = {"value": {"type": "Point", "coordinates": [105, 20]}}
    appended = parse_attributes({"powerState": {"type": "Property", "value": "off"}}, CORE_TERMS)
    results = in_one_group(
        broker,
        [
            lambda s: s.info.get(GROUPED),
            patch(broker, 1, "dimmingLevel", {"value": 10}),
            patch(broker, 9, "dimmingLevel", {"value": 10}),  # no such entity
            patch(broker, 1, "dimmingLevel", {"value": 20}),  # the same entity again
            patch(broker, 2, "noSuchAttribute", {"value": 1}),
            lambda s: broker.append(s, TENANT, sid(2), appended, EVERYWHERE)[1].updated,
            lambda s: broker.patch_attribute(
                s, TENANT, sid(3), LOCATION, moved, CORE_TERMS, EVERYWHERE
            ),
        ],
    )
    assert results[0] is True  # they did run as one group
    assert results[1].id == sid(1) and results[3].id == sid(1)
    assert isinstance(results[2], ResourceNotFound)
    assert isinstance(results[4], ResourceNotFound)
    assert results[5] == [DEFAULT + "powerState"]
    assert results[6].attributes == (LOCATION,)
    assert dimming(broker, 1) == (20, 2)  # both edits, in order, one write
    assert dimming(broker, 2) == (80, 2)
    new = events(database)[len(before) :]
    assert new == [
        ("entity.updated", sid(1)),
        ("entity.updated", sid(1)),
        ("entity.updated", sid(2)),
        ("entity.updated", sid(3)),
    ]
    assert history(database, 1, "dimmingLevel") == ["80", "10", "20"]
    assert history(database, 2, "powerState") == ['"on"', '"off"']
    with database.engine.connect() as conn:
        box = conn.execute(
            text("SELECT min_lon, min_lat FROM ngsi_entities WHERE id = :id"), {"id": sid(3)}
        ).one()
    assert tuple(box) == (105, 20)


def test_a_failing_job_leaves_the_others(broker: Broker, database: Database) -> None:
    def broken(session: Session) -> None:
        session.execute(text("SELECT * FROM no_such_table"))

    results = in_one_group(
        broker,
        [
            patch(broker, 1, "dimmingLevel", {"value": 11}),
            broken,
            patch(broker, 2, "dimmingLevel", {"value": 22}),
        ],
    )
    assert results[0].id == sid(1) and results[2].id == sid(2)
    assert isinstance(results[1], Exception) and not isinstance(results[1], ResourceNotFound)
    assert dimming(broker, 1) == (11, 2)
    assert dimming(broker, 2) == (22, 2)
    assert history(database, 1, "dimmingLevel") == ["80", "11"]


def test_a_write_that_loses_the_race_writes_nothing_half(
    broker: Broker, database: Database
) -> None:
    """Another write bumps the version after a grouped edit read it: the group's commit-time
    UPDATE matches nothing, the group rolls back whole and each job runs again alone."""
    before = events(database)

    def patch_then_bump(session: Session) -> str:
        patch(broker, 2, "dimmingLevel", {"value": 22})(session)  # read with the first job's
        session.execute(
            text("UPDATE ngsi_entities SET version = version + 1 WHERE id = :id"), {"id": sid(1)}
        )
        return "bumped"

    results = in_one_group(
        broker, [patch(broker, 1, "dimmingLevel", {"value": 33}), patch_then_bump]
    )
    assert results[0].id == sid(1) and results[1] == "bumped"
    assert dimming(broker, 1) == (33, 3)  # the edit, and the bump, once each
    assert dimming(broker, 2) == (22, 2)
    assert events(database)[len(before) :] == [
        ("entity.updated", sid(1)),
        ("entity.updated", sid(2)),
    ]
    assert history(database, 1, "dimmingLevel") == ["80", "33"]
    assert history(database, 2, "dimmingLevel") == ["80", "22"]


def test_deferred_edits_are_written_before_a_delete(broker: Broker, database: Database) -> None:
    before = events(database)

    def patch_then_delete(session: Session) -> Any:
        patch(broker, 1, "dimmingLevel", {"value": 44})(session)  # waits for the group's read
        return broker.delete(session, TENANT, sid(1), EVERYWHERE)  # writes the edit first

    results = in_one_group(
        broker,
        [
            patch_then_delete,
            patch(broker, 1, "dimmingLevel", {"value": 55}),  # runs on after the delete
            patch(broker, 2, "dimmingLevel", {"value": 66}),
        ],
    )
    assert results[0].kind == "deleted"
    assert isinstance(results[1], ResourceNotFound)
    assert results[2].kind == "updated"
    assert events(database)[len(before) :] == [
        ("entity.updated", sid(1)),
        ("entity.deleted", sid(1)),
        ("entity.updated", sid(2)),
    ]
    assert history(database, 1, "dimmingLevel") == ["80", "44", None]
    assert dimming(broker, 2) == (66, 2)


def test_batch_upsert_reports_each_entity(ngsi: Ngsi) -> None:
    ngsi.create(streetlight(1))
    bad_place = streetlight(3)
    bad_place["location"]["value"] = {"type": "Point", "coordinates": [500, 20]}
    batch = [
        streetlight(1, dimming=10),  # replaced
        streetlight(2, dimming=20),  # created
        bad_place,  # refused: the others stay
        streetlight(2, dimming=30),  # the same entity again: replaces what the batch made
        {"id": sid(4)},  # no type, no entity: refused
    ]
    response = ngsi.post("/entityOperations/upsert", json=batch)
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["success"] == [sid(1), sid(2), sid(2)]
    assert sorted(e["entityId"] for e in body["errors"]) == [sid(3), sid(4)]
    assert ngsi.entity(sid(1))["dimmingLevel"]["value"] == 10
    assert ngsi.entity(sid(2))["dimmingLevel"]["value"] == 30
    assert ngsi.ids(type="Streetlight") == [sid(1), sid(2)]
    assert [(t, d["id"]) for t, d in ngsi.events()] == [
        ("entity.created", sid(1)),
        ("entity.updated", sid(1)),
        ("entity.created", sid(2)),
        ("entity.updated", sid(2)),
    ]
    assert history(ngsi.database, 2, "dimmingLevel") == ["20", "30"]
    assert history(ngsi.database, 1, "dimmingLevel") == ["80", "10"]


def test_batch_create_and_update_in_few_statements(ngsi: Ngsi) -> None:
    created = ngsi.post("/entityOperations/create", json=[streetlight(n) for n in range(1, 21)])
    assert created.status_code == 201, created.text
    updates = [
        {"id": sid(n), "dimmingLevel": {"type": "Property", "value": n}} for n in range(1, 22)
    ]
    response = ngsi.post("/entityOperations/update", json=updates)
    assert response.status_code == 207, response.text
    assert response.json()["errors"][0]["entityId"] == sid(21)
    assert ngsi.entity(sid(7))["dimmingLevel"]["value"] == 7
    kinds = [t for t, _ in ngsi.events()]
    assert kinds == ["entity.created"] * 20 + ["entity.updated"] * 20
    with ngsi.database.engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(HISTORY))
    assert rows == 20 * 3 + 20
