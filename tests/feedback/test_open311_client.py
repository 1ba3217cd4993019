"""A real Open311 client (the ``georeport`` package, requests + xmltodict) reads a live server.

The client parses our XML with xmltodict and our JSON with requests, with no help from us:
if its idea of GeoReport v2 and ours differ, this fails. It does not post (the package cannot).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from ioc.app import create_app
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.serving import serve
from tests.feedback.open311_support import PREFIX, seed_request

georeport = pytest.importorskip("georeport")


@pytest.fixture
def live_url(catalogue: Database) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread, for this test."""
    app = create_app(Settings(database_url=catalogue.url), database=catalogue)
    with serve(app) as url:
        yield url + PREFIX


def _as_list(value: Any) -> list[Any]:
    """xmltodict gives a dict for one repeated element and a list for several."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_services_and_requests(
    live_url: str, catalogue: Database, fmt: str
) -> None:
    march = dt.datetime(2021, 3, 1, 3, 0, tzinfo=dt.UTC)
    first = seed_request(catalogue, "road", requested_at=march, description="Ổ gà")
    second = seed_request(catalogue, "waste", requested_at=march)
    client = georeport.GeoReport(live_url, output_format=fmt)

    services = client.get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["road"]["service_name"] == "Đường, cầu, cống hư hỏng"
    assert str(by_code["road"]["metadata"]).lower() == "true"

    definition = client.get_service_definition("streetlight")
    attributes = definition["attributes"]
    attributes = attributes if fmt == "json" else _as_list(attributes["attribute"])
    problem = attributes[0]
    values = problem["values"] if fmt == "json" else _as_list(problem["values"]["value"])
    assert problem["code"] == "problem"
    assert [v["key"] for v in values] == ["off", "day", "flicker", "pole"]

    listed = _as_list(client.get_service_requests(service_request_id=f"{first},{second}"))
    assert [int(r["service_request_id"]) for r in listed] == [second, first]
    one = client.get_service_request(str(first))
    assert one["description"] == "Ổ gà"
    assert one["agency_responsible"] == "UBND huyện Đà Bắc"
    assert one["requested_datetime"] == "2021-03-01T10:00:00+07:00"
    window = client.get_service_requests(
        start_date="2021-02-28T00:00:00+07:00", end_date="2021-03-02T00:00:00+07:00"
    )
    assert {int(r["service_request_id"]) for r in _as_list(window)} == {first, second}
