"""A small fleet over the demo province (places and agencies loaded), and readers for its state."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.devices.streetlights import inventory
from ioc.simulate.fleet import Sizes
from ioc.simulate.runner import Simulator

SMALL = Sizes(lights=60, cameras=6, air=4, water=3, traffic=4)
VN = dt.timezone(dt.timedelta(hours=7))
# Fixed moments in the past: the fault scan compares the clock with when entities were written.
NIGHT = dt.datetime(2026, 11, 20, 20, 0, tzinfo=VN)  # 20:00 Vietnam time, long after sunset
NOON = dt.datetime(2026, 11, 21, 12, 0, tzinfo=VN)


def broker_of(database: Database) -> Broker:
    return Broker(database, Settings(database_url=database.url))


def make(database: Database, mqtt: str = "", **kw: Any) -> Simulator:
    sim, _ = Simulator.prepare(
        database,
        broker_of(database),
        sizes=kw.pop("sizes", SMALL),
        fault_rate=kw.pop("fault_rate", 0.0),
        mqtt=mqtt,
        apikey=kw.pop("apikey", "sim" + uuid.uuid4().hex[:8]),
        **kw,
    )
    return sim


@pytest.fixture
def sim(demo_db: Database) -> Simulator:
    """A small in-process fleet over a fresh copy of the demo database."""
    return make(demo_db)


def lights(database: Database) -> dict[str, dict[str, Any]]:
    """Every streetlight in keyValues, by entity id."""
    with database.session() as session:
        return {k: v.values for k, v in inventory(session, broker_of(database)).lights.items()}


def entity(database: Database, entity_id: str) -> dict[str, Any]:
    from ioc.devices.entities import key_values

    with database.engine.connect() as conn:
        stored = broker_of(database).store.read(conn, "default", entity_id)
    assert stored is not None, entity_id
    return key_values(stored)
