"""Bounding-box queries give the answer shapely gives, on whichever backend the suite runs.

The same test runs on SQLite (R*Tree + shapely) and on PostgreSQL (PostGIS, GiST): both are
held to the brute-force answer computed here, so they agree with each other.
"""

from __future__ import annotations

import random
from pathlib import Path

import shapely
from shapely.geometry import LineString, Polygon, box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ioc.gis import geometry as geo
from ioc.gis import importer, spatial
from ioc.gis.models import FEATURES, PARCELS, GisFeature, LandParcel
from tests.gis.conftest import geojson_file


def _truth(
    session: Session, model: type[GisFeature] | type[LandParcel], where: list, window: geo.BBox
) -> list[int]:  # type: ignore[type-arg]
    rows = session.execute(select(model.id, model.geometry).where(*where).order_by(model.id))
    query = box(*window)
    return [i for i, g in rows if shapely.intersects(query, shapely.from_geojson(g))]


def _ids(page: spatial.Page) -> list[int]:
    return [row[0] for row in page.rows]


def test_parcel_windows_match_shapely(session: Session) -> None:
    rng = random.Random(7)
    for _ in range(25):
        lon, lat = rng.uniform(105.29, 105.40), rng.uniform(20.76, 20.95)
        size = rng.choice((0.0005, 0.002, 0.01))
        window = (lon, lat, lon + size, lat + size * 0.8)
        page = spatial.page(
            session, PARCELS, [LandParcel.id], [], limit=100_000, offset=0, box=window
        )
        assert _ids(page) == _truth(session, LandParcel, [], window)
        assert page.matched == len(_ids(page))


def test_awkward_shapes_whose_boxes_meet_but_not_they(session: Session, tmp_path: Path) -> None:
    # an L-shaped polygon and a diagonal line: the query box sits in their empty corners
    ell = Polygon(
        [
            (105.30, 20.80),
            (105.32, 20.80),
            (105.32, 20.801),
            (105.301, 20.801),
            (105.301, 20.82),
            (105.30, 20.82),
        ]
    )
    diagonal = LineString([(105.40, 20.80), (105.42, 20.82)])
    path = geojson_file(
        tmp_path / "shapes.geojson",
        [
            {"type": "Feature", "properties": {"n": "ell"}, "geometry": ell.__geo_interface__},
            {
                "type": "Feature",
                "properties": {"n": "diag"},
                "geometry": diagonal.__geo_interface__,
            },
        ],
    )
    importer.import_file(session, path, "shapes")
    where = [GisFeature.layer_id == "shapes"]
    inside_corner = (105.31, 20.81, 105.315, 20.815)  # in the L's box, not in the L
    off_line = (105.415, 20.801, 105.419, 20.805)  # in the line's box, below the line
    on_both = (105.295, 20.79, 105.43, 20.83)
    for window, expected in ((inside_corner, 0), (off_line, 0), (on_both, 2)):
        page = spatial.page(
            session, FEATURES, [GisFeature.id], where, limit=10, offset=0, box=window
        )
        assert page.matched == expected, window
        assert _ids(page) == _truth(session, GisFeature, where, window)


def test_paging_is_stable_and_complete(session: Session) -> None:
    window = (105.29, 20.75, 105.40, 20.95)
    everything = _ids(
        spatial.page(session, PARCELS, [LandParcel.id], [], limit=100_000, offset=0, box=window)
    )
    pages = [
        spatial.page(session, PARCELS, [LandParcel.id], [], limit=250, offset=o, box=window)
        for o in range(0, len(everything), 250)
    ]
    assert [i for p in pages for i in _ids(p)] == everything
    assert {p.matched for p in pages} == {len(everything)}


def test_the_index_exists(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_gis_parcels_geometry'"
        assert "gist" in (session.scalar(text(sql)) or "").lower()
    else:
        sql = "SELECT count(*) FROM gis_parcels_rtree"
        assert session.scalar(text(sql)) == session.scalar(text("SELECT count(*) FROM gis_parcels"))
