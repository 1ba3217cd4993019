"""A create or replace batch reads its entities ahead, unlocked, while its items are parsed
(PostgreSQL). Written on that read, guarded by version; an entity changed or created after it
sends the batch back to a locked read, and nothing of the first attempt stays (its history
rows, sent while it applied its items, included)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from ioc.context import batch
from ioc.context.api import runtime
from ioc.context.bulk import UNNEST_FROM
from ioc.context.entities import parse_entity
from ioc.context.service import Broker
from ioc.context.store import Stored
from ioc.core.scope import Scope
from tests.context.conftest import Ngsi, streetlight

# the batch goes as one statement over arrays, its history by a COPY open while it applies
COUNT = max(UNNEST_FROM, batch.STREAM_FROM) + 10
IDS = [f"urn:ngsi-ld:Streetlight:{n:03d}" for n in range(1, COUNT + 2)]
ATTRIBUTES = 3  # a streetlight's: location, powerState, dimmingLevel


def _made(ngsi: Ngsi) -> Broker:
    made = [streetlight(n) for n in range(1, COUNT + 1)]
    assert ngsi.post("/entityOperations/create", json=made).status_code == 201
    return runtime(ngsi.client.app).broker


def _read_ahead(broker: Broker) -> dict[str, Stored]:
    with broker.reader.connect() as conn:
        return broker.store.read_many(conn, "default", IDS, outline=True, lock=False)


def _upsert(broker: Broker, seen: dict[str, Stored], dimming: int) -> batch.BatchResult:
    terms = broker.contexts.term_map(None)
    items: list[batch.Item] = [
        parse_entity(streetlight(n, dimming=dimming), terms) for n in range(1, COUNT + 2)
    ]
    with broker.writing("user:test") as session:
        return batch.run(broker, session, "default", "upsert", items, Scope.everywhere(), seen=seen)


def _state(ngsi: Ngsi) -> tuple[dict[str, int], int, int]:
    """Each entity's version; how many history rows and entity.updated events there are."""
    with ngsi.database.engine.connect() as conn:
        versions = dict(conn.execute(text("SELECT id, version FROM ngsi_entities")).all())
        history = conn.scalar(text("SELECT count(*) FROM ngsi_attribute_history"))
        updated = conn.scalar(text("SELECT count(*) FROM events WHERE type = 'entity.updated'"))
    return versions, int(history or 0), int(updated or 0)


def test_a_batch_on_a_fresh_read_ahead_is_written_at_once(
    ngsi: Ngsi, caplog: pytest.LogCaptureFixture
) -> None:
    broker = _made(ngsi)
    seen = _read_ahead(broker)
    assert sorted(seen) == IDS[:-1]  # the last one is new
    with caplog.at_level(logging.INFO, logger="ioc.context.batch"):
        result = _upsert(broker, seen, dimming=40)
    assert not result.errors and result.created == [IDS[-1]]
    assert "again, locked" not in caplog.text
    versions, history, updated = _state(ngsi)
    assert versions == {**dict.fromkeys(IDS[:-1], 2), IDS[-1]: 1}
    assert history == (2 * COUNT + 1) * ATTRIBUTES and updated == COUNT


def test_entities_changed_or_made_after_the_read_ahead_send_it_back_to_a_locked_read(
    ngsi: Ngsi, caplog: pytest.LogCaptureFixture
) -> None:
    broker = _made(ngsi)
    seen = _read_ahead(broker)
    # meanwhile, another writer dims light 4 and makes the light the batch thinks is new
    assert (
        ngsi.patch(
            f"/entities/{IDS[3]}/attrs", json={"dimmingLevel": {"type": "Property", "value": 10}}
        ).status_code
        == 204
    )
    ngsi.create(streetlight(COUNT + 1))
    with caplog.at_level(logging.INFO, logger="ioc.context.batch"):
        result = _upsert(broker, seen, dimming=40)
    assert "again, locked" in caplog.text
    assert not result.errors and result.success == IDS and result.created == []
    versions, history, updated = _state(ngsi)
    assert versions == {**dict.fromkeys(IDS, 2), IDS[3]: 3}  # the first attempt left nothing
    assert history == (2 * (COUNT + 1) + 1) * ATTRIBUTES - 2  # the PATCH wrote one attribute
    assert updated == COUNT + 2  # the PATCH's and the batch's, once each
    assert ngsi.entity(IDS[3])["dimmingLevel"]["value"] == 40


def test_an_entity_made_after_the_read_ahead_is_updated_not_refused(
    ngsi: Ngsi, caplog: pytest.LogCaptureFixture
) -> None:
    broker = _made(ngsi)
    seen = _read_ahead(broker)
    ngsi.create(streetlight(COUNT + 1))  # the batch would INSERT it: the key is taken
    with caplog.at_level(logging.INFO, logger="ioc.context.batch"):
        result = _upsert(broker, seen, dimming=40)
    assert "again, locked" in caplog.text
    assert not result.errors and result.created == []
    versions, _, updated = _state(ngsi)
    assert versions == dict.fromkeys(IDS, 2) and updated == COUNT + 1
