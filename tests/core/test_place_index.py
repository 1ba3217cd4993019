"""The in-memory place index: it answers as the database would, and follows every change."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ioc.core import place_index, places, refdata
from ioc.core.db import Database
from ioc.core.models import PLACE_LEVELS, Place

HCMC = (10.78, 106.70)  # far outside Hòa Bình


@pytest.fixture
def hoa_binh(database: Database) -> Database:
    with database.session() as s:
        places.load_province(s, "Hòa Bình")
    return database


@pytest.fixture
def elsewhere(hoa_binh: Database) -> Iterator[Database]:
    """The same database through another engine: as another process (a CLI) would reach it."""
    other = Database(hoa_binh.url)
    yield other
    other.dispose()


def _version(database: Database) -> str | None:
    with database.session() as s:
        return refdata.versions(s, Place.__refdata__)[Place.__refdata__]


def test_the_index_answers_as_the_boundary_free_query_does(hoa_binh: Database) -> None:
    rng = random.Random(17)
    with hoa_binh.session() as s:
        index = place_index.current(s)
        assert not index.has_boundaries
        communes = s.scalars(select(Place).where(Place.level == "commune")).all()
        points = [(c.lat, c.lon) for c in communes if c.lat is not None and c.lon is not None]
        points += [(rng.uniform(20.3, 21.2), rng.uniform(104.8, 105.9)) for _ in range(300)]
        points += [HCMC, (21.03, 105.85)]
        for lat, lon in points:
            for level in PLACE_LEVELS:
                by_query = places._locate_by_boundary(s, lat, lon, level)
                hit = index.locate(lat, lon, level)
                assert (hit.code if hit else None) == (by_query.code if by_query else None)


def test_a_change_made_through_another_engine_reaches_the_index(
    hoa_binh: Database, elsewhere: Database
) -> None:
    with hoa_binh.session() as s:
        before = place_index.current(s)
        assert places.locate(s, *HCMC) is None
        tu_ly = before.get("04867")
        assert tu_ly is not None and tu_ly.box is not None
    version = _version(hoa_binh)
    assert version is not None  # the load stamped one

    with elsewhere.session() as s:  # an ORM change: Tú Lý's box moved over Hồ Chí Minh City
        moved = places.get_place(s, "04867")
        moved.min_lat, moved.max_lat, moved.min_lon, moved.max_lon = 10.7, 10.9, 106.6, 106.8
        moved.lat, moved.lon = HCMC
    assert _version(hoa_binh) != version

    with hoa_binh.session() as s:
        after = place_index.current(s)
        assert after is not before
        assert after.get("04867").box == (10.7, 10.9, 106.6, 106.8)  # type: ignore[union-attr]
        found = places.locate(s, *HCMC)
        assert found is not None and found.code == "04867"
        assert place_index.current(s) is after  # unchanged since: the same copy

    with elsewhere.session() as s:  # a reload puts the dataset's box back, in bulk
        result = places.load_province(s, "Hòa Bình")
        assert result.updated == 1
    with hoa_binh.session() as s:
        assert place_index.current(s).get("04867") == tu_ly
        assert places.locate(s, *HCMC) is None


def test_a_load_that_writes_nothing_keeps_the_version(hoa_binh: Database) -> None:
    version = _version(hoa_binh)
    with hoa_binh.session() as s:
        result = places.load_province(s, "Hòa Bình")
        assert result.inserted == result.updated == 0
    assert _version(hoa_binh) == version


def test_a_new_province_is_seen_in_the_same_transaction(database: Database) -> None:
    with database.session() as s:
        assert place_index.current(s).places == {}
        places.load_province(s, "25", tree="2025")
        ward = places.children(s, "25")[0]
        assert ward.lat is not None and ward.lon is not None
        assert places.locate(s, ward.lat, ward.lon) is ward


def test_a_boundary_hands_locating_back_to_the_database(hoa_binh: Database) -> None:
    with hoa_binh.session() as s:
        assert not place_index.current(s).has_boundaries
        tu_ly = places.get_place(s, "04867")
        tu_ly.boundary = {"type": "Point", "coordinates": [tu_ly.lon, tu_ly.lat]}
    with hoa_binh.session() as s:
        assert place_index.current(s).has_boundaries


def test_without_commune_boxes_every_point_is_near_enough(database: Database) -> None:
    with database.session() as s:
        places.load_province(s, "25", tree="2025")  # the 2025 tree has centroids, no boxes
        index = place_index.current(s)
        assert index.by_level["commune"] and all(p.box is None for p in index.by_level["commune"])
        assert index.near_a_box("commune", 21.3, 105.2, 2000)
