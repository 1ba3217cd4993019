"""An independent OGC API – Features client (OWSLib) reads our collections and items, unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ioc.app import create_app
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.serving import serve

features_module = pytest.importorskip("owslib.ogcapi.features")


@pytest.fixture
def live_url(demo_db: Database) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    app = create_app(Settings(database_url=demo_db.url), database=demo_db)
    with serve(app) as url:
        yield url + "/ogcapi/"


def test_owslib_reads_collections_and_items(live_url: str) -> None:
    api = features_module.Features(live_url)
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    ids = api.feature_collections()
    assert {"admin-units", "parcels", "planning-zones", "bts-stations", "network-points"} <= set(
        ids
    )
    assert api.collection("parcels")["title"] == "Land parcels (iLIS)"

    items = api.collection_items("parcels", bbox=[105.30, 20.80, 105.36, 20.84], limit=50)
    assert items["type"] == "FeatureCollection" and items["numberReturned"] == 50
    assert items["numberMatched"] > 50
    first = items["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    one = api.collection_item("parcels", first["id"])
    assert one["properties"]["key"] == first["id"]

    odt = api.collection_items("parcels", land_use="ODT", limit=5)
    assert {f["properties"]["land_use"] for f in odt["features"]} == {"ODT"}
    queryables = api.collection_queryables("parcels")
    assert "land_use" in queryables["properties"]
    network = api.collection_items("network-points", limit=200)
    assert network["numberMatched"] == 183 == len(network["features"])
