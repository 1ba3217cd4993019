"""The map's device layers (cameras, sensors) and the citizen dossier lookup's public function."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from ioc.context.api import runtime
from ioc.core.problems import NotFound
from ioc.services import public
from ioc.simulate.runner import Simulator
from tests.web.conftest import SMALL_FLEET

Auth = Callable[..., dict[str, str]]
HOA_BINH_CITY, DA_BAC = "148", "150"


@pytest.fixture
def fleet_client(client: TestClient) -> TestClient:
    """The demo app with the small fleet installed and every device reporting once."""
    app = client.app
    database = app.state.database  # type: ignore[attr-defined]
    simulator, _ = Simulator.prepare(database, runtime(app).broker, sizes=SMALL_FLEET)
    simulator.tick()
    return client


def test_cameras_and_sensors_in_scope(fleet_client: TestClient, auth: Auth) -> None:
    client = fleet_client
    cams = client.get("/api/v1/web/cameras", headers=auth("vanhanh")).json()["features"]
    assert len(cams) == SMALL_FLEET.cameras
    assert all(f["geometry"]["type"] == "Point" and f["properties"]["name"] for f in cams)
    sensors = client.get("/api/v1/web/sensors", headers=auth("vanhanh")).json()["features"]
    kinds = sorted(f["properties"]["kind"] for f in sensors)
    assert kinds == ["air"] * 2 + ["traffic"] * 2 + ["water"] * 2
    air = next(f["properties"] for f in sensors if f["properties"]["kind"] == "air")
    assert isinstance(air["airQualityIndex"], int | float) and air["observed"]
    # The fleet is in Thành phố Hòa Bình: none of it is in Đà Bắc, all of it in the city.
    city = client.get(f"/api/v1/web/sensors?place={HOA_BINH_CITY}", headers=auth("vanhanh"))
    assert len(city.json()["features"]) == len(sensors)
    elsewhere = client.get(f"/api/v1/web/cameras?place={DA_BAC}", headers=auth("vanhanh"))
    assert elsewhere.json()["features"] == []


def test_device_layers_refuse_outsiders(fleet_client: TestClient, auth: Auth) -> None:
    client = fleet_client
    assert client.get("/api/v1/web/sensors").status_code == 401
    assert client.get("/api/v1/web/cameras", headers=auth("congdan")).status_code == 403
    outside = client.get(f"/api/v1/web/sensors?place={HOA_BINH_CITY}", headers=auth("dabac"))
    assert outside.status_code == 403


def test_dossier_status_names_no_person(client: TestClient) -> None:
    database = client.app.state.database  # type: ignore[attr-defined]
    with database.session("test") as session:
        code = session.execute(text("SELECT code FROM dossiers LIMIT 1")).scalar_one()
        found = public.dossier_status(session, f" {code} ")
        assert found.code == code and found.procedure_name
        with pytest.raises(NotFound):
            public.dossier_status(session, "NO-SUCH")
