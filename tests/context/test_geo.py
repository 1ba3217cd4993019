"""Geo-queries: the same answers on both backends (PostGIS there, bounding boxes + shapely here)."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from shapely.geometry import shape
from sqlalchemy import text

from ioc.context.geo import GeoQuery, distance_m
from tests.context.conftest import Ngsi, assert_error

# A reference point in Hòa Bình city and things at known distances from it.
R = [105.34, 20.81]
M_LAT = 111_195.0  # metres per degree of latitude on PostGIS's sphere
M_LON = M_LAT * 0.934763  # … of longitude at 20.81°N


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


THINGS = {
    "A": point(R[0], R[1] + 100 / M_LAT),  # 100 m north
    "B": point(R[0] + 400 / M_LON, R[1]),  # 400 m east
    "C": point(R[0], R[1] - 800 / M_LAT),  # 800 m south
    "D": point(R[0] - 2000 / M_LON, R[1]),  # 2 km west
    "E": point(R[0], R[1] + 5000 / M_LAT),  # 5 km north
    "L": {"type": "LineString", "coordinates": [[105.33, 20.815], [105.35, 20.815]]},  # 556 m N
    "P": box(105.358, 20.798, 105.362, 20.802),  # a park ~2 km south-east
}
AROUND_R = box(105.335, 20.800, 105.345, 20.813)


def thing(name: str, geometry: dict[str, Any], attr: str = "location") -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Thing:{name}",
        "type": "Thing",
        attr: {"type": "GeoProperty", "value": geometry},
    }


@pytest.fixture
def places(ngsi: Ngsi) -> Ngsi:
    batch = [thing(name, geometry) for name, geometry in THINGS.items()]
    batch.append({"id": "urn:ngsi-ld:Thing:Z", "type": "Thing"})  # no location at all
    batch.append(thing("S", box(105.339, 20.809, 105.341, 20.811), "observationSpace"))
    assert ngsi.post("/entityOperations/create", json=batch).status_code == 201
    return ngsi


def found(ngsi: Ngsi, georel: str, geometry: dict[str, Any], **more: Any) -> list[str]:
    params = {
        "type": "Thing",
        "georel": georel,
        "geometry": geometry["type"],
        "coordinates": orjson.dumps(geometry["coordinates"]).decode(),
        **more,
    }
    return [i.rsplit(":", 1)[1] for i in ngsi.ids(**params)]


@pytest.mark.parametrize(
    "georel, geometry, expected",
    [
        ("near;maxDistance==500", point(*R), ["A", "B"]),
        ("near;maxDistance==600", point(*R), ["A", "B", "L"]),
        ("near;maxDistance==90", point(*R), []),
        ("near;minDistance==1000", point(*R), ["D", "E", "P"]),
        ("within", AROUND_R, ["A", "B", "C"]),
        ("intersects", box(105.338, 20.812, 105.342, 20.818), ["L"]),
        ("intersects", AROUND_R, ["A", "B", "C"]),
        ("disjoint", AROUND_R, ["D", "E", "L", "P"]),
        ("contains", point(105.36, 20.80), ["P"]),
        ("equals", THINGS["B"], ["B"]),
        ("overlaps", box(105.360, 20.800, 105.365, 20.805), ["P"]),
    ],
)
def test_georel(places: Ngsi, georel: str, geometry: dict[str, Any], expected: list[str]) -> None:
    assert found(places, georel, geometry) == expected


def test_geoproperty_picks_another_geoproperty(places: Ngsi) -> None:
    assert found(places, "intersects", point(*R), geoproperty="observationSpace") == ["S"]
    assert found(places, "near;maxDistance==50", point(*R), geoproperty="observationSpace") == ["S"]


def test_geo_query_with_q_and_count(places: Ngsi) -> None:
    response = places.get(
        "/entities",
        params={
            "type": "Thing",
            "georel": "near;maxDistance==1000",
            "geometry": "Point",
            "coordinates": "105.34,20.81",
            "idPattern": "[AC]$",
            "count": "true",
        },
    )
    assert [e["id"][-1] for e in response.json()] == ["A", "C"]
    assert response.headers["NGSILD-Results-Count"] == "2"


def test_backend_answers_match_brute_force_shapely(ngsi: Ngsi) -> None:
    """PostGIS (or SQLite's boxes + shapely) against every entity tested one by one."""
    rng = random.Random(17)
    geometries: dict[str, Any] = {}
    for n in range(60):
        lon, lat = 105.30 + rng.random() * 0.08, 20.78 + rng.random() * 0.06
        kind = n % 3
        if kind == 0:
            geometries[f"{n:02d}"] = point(lon, lat)
        elif kind == 1:
            geometries[f"{n:02d}"] = {
                "type": "LineString",
                "coordinates": [[lon, lat], [lon + rng.uniform(-0.01, 0.01), lat + 0.005]],
            }
        else:
            geometries[f"{n:02d}"] = box(lon, lat, lon + 0.004, lat + 0.003)
    batch = [thing(name, g) for name, g in geometries.items()]
    assert ngsi.post("/entityOperations/create", json=batch).status_code == 201
    shapes = {name: shape(g) for name, g in geometries.items()}
    compared = 0
    for _ in range(24):
        lon, lat = 105.30 + rng.random() * 0.08, 20.78 + rng.random() * 0.06
        choice = rng.randrange(5)
        if choice == 0:
            reference, georel = point(lon, lat), f"near;maxDistance=={rng.randrange(200, 3000)}"
        elif choice == 1:
            reference, georel = point(lon, lat), f"near;minDistance=={rng.randrange(500, 4000)}"
        else:
            reference = box(lon, lat, lon + 0.02, lat + 0.015)
            georel = ("within", "intersects", "disjoint")[choice - 2]
        query = GeoQuery(georel.split(";")[0], reference, shape(reference))
        if georel.startswith("near"):
            limit = float(georel.split("==")[1])
            kind = "max_distance" if "max" in georel else "min_distance"
            query = GeoQuery("near", reference, shape(reference), **{kind: limit})  # type: ignore[arg-type]
            # leave out what lies within 0.5 % of the limit: sphere vs local plane may differ
            doubtful = {
                n
                for n, s in shapes.items()
                if abs(distance_m(s, query.shape) - limit) < limit / 200
            }
        else:
            doubtful = set()
        expected = {n for n, s in shapes.items() if query.test(s)} - doubtful
        answered = set(found(ngsi, georel, reference)) - doubtful
        assert answered == expected, (georel, reference)
        compared += len(expected)
    assert compared > 50  # the queries did select things


@pytest.mark.parametrize(
    "params, detail",
    [
        ({"georel": "near;maxDistance==10"}, "together"),
        ({"georel": "nearby", "geometry": "Point", "coordinates": "[1,2]"}, "unknown relation"),
        ({"georel": "near", "geometry": "Point", "coordinates": "[1,2]"}, "maxDistance"),
        ({"georel": "near;maxDistance==-5", "geometry": "Point", "coordinates": "[1,2]"}, "metres"),
        (
            {"georel": "within;maxDistance==5", "geometry": "Point", "coordinates": "[1,2]"},
            "no distance",
        ),
        ({"georel": "within", "geometry": "Point", "coordinates": "[200,2]"}, "out of range"),
        ({"georel": "within", "geometry": "Point", "coordinates": "[1,2"}, "JSON array"),
        ({"georel": "within", "geometry": "Circle", "coordinates": "[1,2]"}, "geometry type"),
        (
            {"georel": "within", "geometry": "Polygon", "coordinates": "[[[1,1],[2,1],[2,2]]]"},
            "four positions",
        ),
    ],
)
def test_bad_geo_queries(ngsi: Ngsi, params: dict[str, str], detail: str) -> None:
    body = assert_error(
        ngsi.get("/entities", params={"type": "Thing", **params}), 400, "BadRequestData"
    )
    assert detail in body["detail"]


@pytest.mark.parametrize(
    "geometry, detail",
    [
        (point(105.3, 95.0), "out of range"),
        (point(181.0, 20.0), "out of range"),
        ({"type": "Point", "coordinates": ["105", 20]}, "[longitude, latitude]"),
        ({"type": "Point"}, "[longitude, latitude]"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "last equal"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]},
            "not valid",
        ),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "two positions"),
        ({"type": "Sphere", "coordinates": [0, 0]}, "unknown geometry type"),
        ("POINT(105 20)", "GeoJSON geometry"),
    ],
)
def test_bad_geometries_are_refused(ngsi: Ngsi, geometry: Any, detail: str) -> None:
    body = assert_error(ngsi.post("/entities", json=thing("X", geometry)), 400, "BadRequestData")
    assert "location.value" in body["detail"] and detail in body["detail"]


def test_location_must_be_a_geoproperty(ngsi: Ngsi) -> None:
    entity = {
        "id": "urn:ngsi-ld:Thing:1",
        "type": "Thing",
        "location": {"type": "Property", "value": 1},
    }
    body = assert_error(ngsi.post("/entities", json=entity), 400, "BadRequestData")
    assert "GeoProperty" in body["detail"]


def test_postgis_keeps_the_location_in_an_indexed_geometry(places: Ngsi, backend: str) -> None:
    with places.database.engine.connect() as conn:
        if backend == "postgresql":
            kind = conn.execute(
                text(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'ngsi_entities'::regclass AND attname = 'location'"
                )
            ).scalar()
            assert kind == "geometry(Geometry,4326)"
            index = conn.execute(
                text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_ngsi_entities_location'"
                )
            ).scalar()
            assert index is not None and "USING gist (location)" in index
            srid = conn.execute(
                text("SELECT ST_SRID(location) FROM ngsi_entities WHERE id = :id"),
                {"id": "urn:ngsi-ld:Thing:A"},
            ).scalar()
            assert srid == 4326
        else:
            row = conn.execute(
                text("SELECT location, min_lon, max_lat FROM ngsi_entities WHERE id = :id"),
                {"id": "urn:ngsi-ld:Thing:P"},
            ).one()
            assert orjson.loads(row.location) == THINGS["P"]
            assert (row.min_lon, row.max_lat) == (105.358, 20.802)
