"""The fleet: its sizes, every device inside Thành phố Hòa Bình, Smart Data Model shapes, and
its registration in the ingest registry."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from ioc.core.db import Database
from ioc.core.models import Place
from ioc.devices.entities import Places
from ioc.devices.validation import validate
from ioc.ingest.models import Device
from ioc.simulate.fleet import FULL, TYPES, build
from ioc.simulate.geography import CITY_NAME, DA_RIVER, distance_m
from ioc.simulate.install import install
from ioc.simulate.runner import Simulator
from tests.simulate.conftest import SMALL, broker_of, entity


def test_the_full_fleet_fills_the_city(demo_db: Database) -> None:
    with demo_db.session() as session:
        fleet = build(session, FULL, seed=7)
        city = session.scalars(select(Place).where(Place.name == CITY_NAME)).one()
        where = Places(session)
        counts = fleet.counts()
        assert counts == {"light": 2000, "camera": 50, "air": 20, "water": 10, "traffic": 20,
                          "groups": 80, "cabinets": 40}  # fmt: skip
        wards = Counter(d.place_code for d in fleet.devices)
        for spec in fleet.devices:
            lat, lon = spec.at
            assert city.min_lat <= lat <= city.max_lat and city.min_lon <= lon <= city.max_lon
            assert where.commune(spec.at) == spec.place_code  # the commune entities derive
            assert session.get(Place, spec.place_code).parent_code == city.code  # type: ignore[union-attr]
    urban = [code for code, n in wards.items() if n > 50]
    assert len(urban) >= 10, wards  # lamps spread over the city's wards, not one spot
    for gauge in fleet.of("water"):  # on the river line (which is approximate)
        assert min(distance_m(gauge.at, p) for p in DA_RIVER) < 600
    agencies = Counter(c.agency for c in fleet.of("camera"))
    assert set(agencies) == {"CAT", "SGTVT"}
    assert len({d.device_id for d in fleet.devices}) == 2100
    with demo_db.session() as session:
        again = build(session, FULL, seed=7)
    assert [d.at for d in again.devices] == [d.at for d in fleet.devices]  # deterministic


def test_entities_follow_the_smart_data_models(demo_db: Database) -> None:
    with demo_db.session() as session:
        fleet = build(session, SMALL)
    docs = [*fleet.groups, *fleet.cabinets, *(d.entity for d in fleet.devices)]
    assert {d["type"] for d in docs} == {*TYPES.values(), "StreetlightGroup",
                                         "StreetlightControlCabinet"}  # fmt: skip
    for doc in docs:
        assert validate(doc["type"], doc) == [], doc["id"]
    broken = {**fleet.of("light")[0].entity, "powerState": "dazzling"}
    assert [v.path for v in validate("Streetlight", broken)] == ["powerState"]


def test_installed_entities_validate_after_a_tick(demo_db: Database) -> None:
    sim, installed = Simulator.prepare(demo_db, broker_of(demo_db), sizes=SMALL, fault_rate=0)
    assert installed.devices == 77 and installed.entities == 77 + 3 + 2
    sim.tick()
    for spec in (sim.fleet.of(kind)[0] for kind in TYPES):
        stored = entity(demo_db, spec.entity_id)
        assert validate(TYPES[spec.kind], stored) == [], stored
    group = sim.fleet.groups[0]
    assert validate("StreetlightGroup", entity(demo_db, group["id"])) == []


def test_devices_are_registered_with_mappings_and_commands(demo_db: Database) -> None:
    broker = broker_of(demo_db)
    with demo_db.session() as session:
        fleet = build(session, SMALL, apikey="simkey")
        install(session, broker, fleet)
    with demo_db.session() as session:
        devices = {d.device_id: d for d in session.scalars(select(Device))}
        again = install(session, broker, build(session, SMALL, apikey="simkey"))
    assert (again.entities, again.devices) == (0, 0)  # idempotent
    lamp = devices["hb-sl-0001"]
    assert lamp.apikey == "simkey" and lamp.protocol == "mqtt"
    assert lamp.entity_id == "urn:ngsi-ld:Streetlight:hb-sl-0001"
    assert lamp.commands == ["switch", "dim", "schedule"]
    names = {a["object_id"]: (a["name"], a.get("unit_code")) for a in lamp.attributes}
    assert names["s"] == ("powerState", None) and names["p"] == ("powerConsumption", "WTT")
    assert names["e"] == ("energyConsumed", "KWH")
    gauge = devices["hb-wl-001"]
    assert gauge.commands == [] and gauge.place_code == fleet.of("water")[0].place_code
    assert {a["name"] for a in gauge.attributes} == {"height", "flow", "dateObserved"}
