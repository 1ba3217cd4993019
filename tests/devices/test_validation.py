"""Smart Data Models: real SDM examples pass, broken ones fail naming the path; the endpoint,
the CLI and the broker's opt-in write check say the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ioc.cli import app as cli_app
from ioc.devices.validation import TYPES, schema, validate
from tests.context.conftest import NgsiFactory, assert_error
from tests.devices.conftest import Devices

# smart-data-models/dataModel.Streetlighting Streetlight/examples/example.json
STREETLIGHT = {
    "id": "streetlight:guadalajara:4567",
    "type": "Streetlight",
    "location": {"type": "Point", "coordinates": [-3.164485591715449, 40.62785133667262]},
    "areaServed": "Roundabouts city entrance",
    "status": "ok",
    "refStreetlightGroup": "streetlightgroup:G345",
    "refStreetlightModel": "streetlightmodel:STEEL_Tubular_10m",
    "circuit": "C-456-A467",
    "lanternHeight": 10,
    "locationCategory": "centralIsland",
    "powerState": "off",
    "controllingMethod": "individual",
    "dateLastLampChange": "2016-07-08T08:02:21.753Z",
    "powerConsumption": 10,
    "current": 250,
    "powerRating": 5,
    "powerFactor": 0.7,
    "voltage": 50,
    "feederPillarNum": "70",
    "streetPoleNum": "2",
    "feederID": "F1",
    "observationDateTime": "2021-01-11T15:51:02+05:30",
    "municipalityInfo": {"district": "Bangalore Urban", "ulbName": "BMC", "wardNum": 4},
}
# ... its example-normalized.jsonld (@context left out: names are the same)
STREETLIGHT_NORMALIZED = {
    "id": "urn:ngsi-ld:Streetlight:streetlight:guadalajara:4567",
    "type": "Streetlight",
    "areaServed": {"type": "Property", "value": "Roundabouts city entrance"},
    "circuit": {"type": "Property", "value": "C-456-A467"},
    "controllingMethod": {"type": "Property", "value": "individual"},
    "dateLastLampChange": {
        "type": "Property",
        "value": {"@type": "DateTime", "@value": "2016-07-08T08:02:21.753Z"},
    },
    "lanternHeight": {"type": "Property", "value": 10},
    "location": {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [-3.164485591715449, 40.62785133667262]},
    },
    "locationCategory": {"type": "Property", "value": "centralIsland"},
    "powerConsumption": {"type": "Property", "value": 10},
    "powerState": {"type": "Property", "value": "off"},
    "refStreetlightGroup": {
        "type": "Relationship",
        "object": "urn:ngsi-ld:StreetlightGroup:streetlightgroup:G345",
    },
    "status": {"type": "Property", "value": "ok"},
}
# dataModel.Environment AirQualityObserved/examples/example.json (dateObserved an interval)
AIR = {
    "id": "Madrid-AmbientObserved-28079004-2016-03-15T11:00:00",
    "type": "AirQualityObserved",
    "address": {
        "addressCountry": "ES",
        "addressLocality": "Madrid",
        "streetAddress": "Plaza de España",
    },
    "dateObserved": "2016-03-15T11:00:00/2016-03-15T12:00:00",
    "areaServed": "Brooklands",
    "location": {"type": "Point", "coordinates": [-3.712247222222222, 40.423852777777775]},
    "source": "http://datos.madrid.es",
    "typeOfLocation": "outdoor",
    "precipitation": 0,
    "relativeHumidity": 0.54,
    "temperature": 12.2,
    "windDirection": 176,
    "windSpeed": 0.64,
    "airQualityLevel": "moderate",
    "airQualityIndex": 65,
    "reliability": 0.7,
    "co": 500,
    "no": 45,
    "co2": 69,
    "nox": 139,
    "so2": 11,
    "coLevel": "moderate",
    "refPointOfInterest": "28079004-Pza.deEspanya",
}
# dataModel.Environment WaterObserved/examples/example.json: the flood gauge's model
WATER = {
    "id": "WaterObserved:MNCA-001",
    "type": "WaterObserved",
    "name": "STLRT-MNCA-AP-WO-012",
    "alternateName": "Var River Alert for safety procedure for Airport",
    "description": "Observation of Evolution of the water levels",
    "location": {"type": "Point", "coordinates": [43.664810, 7.196545]},
    "areaServed": "Nice Airport",
    "refDevice": "Device:T2-NP-018",
    "dateObserved": "2020-03-17T08:45:00.209Z",
    "flow": 12,
    "height": 3.52,
    "measuredArea": 250,
    "objectArea": 35,
    "objectHeightAverage": 1.75,
    "objectHeightMax": 2.25,
    "objectVolume": 17.5,
}
# dataModel.Device Camera/examples/example.json (which carries no id: one is added)
CAMERA = {
    "id": "urn:ngsi-ld:Camera:Cam2",
    "type": "Camera",
    "cameraName": "Cam2",
    "streamURL": "https://drive.google.com/file/d/1eNmgWDvb2R34o03cZ9dPXrtEvsreQzQ4/view",
    "cameraUsage": "SURVEILLANCE",
    "cameraType": "FIXED",
    "endDateTime": "2021-05-11T06:35:20.065Z",
    "startDateTime": "2021-05-11T06:30:00.020Z",
    "location": {"type": "Point", "coordinates": [91.28076, 23.831796]},
    "cameraNum": 2,
    "streamName": "Agartala_OrientChowmuhani_Surv_Fixed_RSBhawan_Cam2",
}


def paths(type_name: str, entity: dict[str, Any]) -> list[str]:
    return [v.path for v in validate(type_name, entity)]


@pytest.mark.parametrize(
    "entity", [STREETLIGHT, STREETLIGHT_NORMALIZED, AIR, WATER, CAMERA], ids=lambda e: e["type"]
)
def test_real_sdm_examples_are_valid(entity: dict[str, Any]) -> None:
    assert validate(entity["type"], entity) == []


def test_every_shipped_schema_is_a_complete_sdm_schema() -> None:
    for name in TYPES:
        doc = schema(name)
        assert doc["$id"].startswith("https://smart-data-models.github.io/"), name
        assert doc["allOf"][-1]["properties"]["type"]["enum"] == [name]
        assert {"id", "type"} <= set(doc["required"])


def test_broken_entities_name_the_failing_path() -> None:
    bad = {**STREETLIGHT, "powerState": "blinking", "illuminanceLevel": 1.5}
    del bad["status"]
    assert paths("Streetlight", bad) == ["illuminanceLevel", "powerState", "status"]
    geo = {**STREETLIGHT, "location": {"type": "Point", "coordinates": [105.3, "north"]}}
    assert paths("Streetlight", geo) == ["location.coordinates.1"]
    when = {**AIR, "dateObserved": "yesterday", "relativeHumidity": 54}
    assert paths("AirQualityObserved", when) == ["dateObserved", "relativeHumidity"]
    normalized = {**STREETLIGHT_NORMALIZED, "lanternHeight": {"type": "Property", "value": -2}}
    assert paths("Streetlight", normalized) == ["lanternHeight"]
    assert paths("WaterObserved", {**WATER, "height": "high"}) == ["height"]
    assert paths("Camera", {**CAMERA, "cameraType": "FISHEYE"}) == ["cameraType"]


def test_validate_endpoint(dev: Devices) -> None:
    ok = dev.client.post(
        "/api/v1/datamodels/Streetlight/validate", json=STREETLIGHT_NORMALIZED, headers=dev.device
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"type": "Streetlight", "valid": True, "errors": []}
    bad = dev.client.post(
        "/api/v1/datamodels/WaterObserved/validate",
        json={k: v for k, v in WATER.items() if k != "dateObserved"} | {"flow": -1},
        headers=dev.operator,
    )
    assert bad.status_code == 200
    body = bad.json()
    assert body["valid"] is False
    assert [e["path"] for e in body["errors"]] == ["dateObserved", "flow"]
    unknown = dev.client.post("/api/v1/datamodels/Teapot/validate", json={}, headers=dev.operator)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    listed = dev.client.get("/api/v1/datamodels", headers=dev.leader).json()
    assert [s["type"] for s in listed] == list(TYPES)
    one = dev.client.get("/api/v1/datamodels/WaterObserved", headers=dev.leader).json()
    assert one["required"] == ["id", "type", "location", "dateObserved"]
    assert dev.client.get("/api/v1/datamodels").status_code == 401


def test_broker_checks_writes_when_asked(ngsi_factory: NgsiFactory) -> None:
    light = {
        "id": "urn:ngsi-ld:Streetlight:hb-1",
        "type": "Streetlight",
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [105.3, 20.8]},
        },
        "status": {"type": "Property", "value": "ok"},
        "powerState": {"type": "Property", "value": "on"},
    }
    relaxed = ngsi_factory()
    relaxed.create(
        {
            **light,
            "id": "urn:ngsi-ld:Streetlight:free",
            "powerState": {"type": "Property", "value": "dazzling"},
        }
    )

    strict = ngsi_factory(devices_validate_writes=True)
    strict.create(light)
    body = assert_error(
        strict.post(
            "/entities",
            json={
                **light,
                "id": "urn:ngsi-ld:Streetlight:hb-2",
                "status": {"type": "Property", "value": "shiny"},
            },
        ),
        400,
        "BadRequestData",
    )
    assert body["detail"].startswith("status: ")
    assert body["errors"][0]["path"] == "status"
    # A partial update is checked on the entity it would leave behind.
    body = assert_error(
        strict.patch(
            "/entities/urn:ngsi-ld:Streetlight:hb-1/attrs",
            json={"powerState": {"type": "Property", "value": "dazzling"}},
        ),
        400,
        "BadRequestData",
    )
    assert body["errors"] == [
        {
            "path": "powerState",
            "message": "'dazzling' is not one of ['bootingUp', 'low', 'off', 'on']",
        }
    ]
    assert (
        strict.entity("urn:ngsi-ld:Streetlight:hb-1", params={"options": "keyValues"})["powerState"]
        == "on"
    )
    ok = strict.patch(
        "/entities/urn:ngsi-ld:Streetlight:hb-1/attrs",
        json={"powerState": {"type": "Property", "value": "off"}},
    )
    assert ok.status_code == 204, ok.text
    # Types without a shipped schema are not checked.
    strict.create(
        {
            "id": "urn:ngsi-ld:Thing:1",
            "type": "Thing",
            "status": {"type": "Property", "value": "shiny"},
        }
    )
    # Batches report the failing entity and store the rest.
    batch = strict.post(
        "/entityOperations/create",
        json=[
            {**light, "id": "urn:ngsi-ld:Streetlight:hb-3"},
            {
                **light,
                "id": "urn:ngsi-ld:Streetlight:hb-4",
                "location": {
                    "type": "GeoProperty",
                    "value": {"type": "LineString", "coordinates": [[105.3, 20.8]]},
                },
            },
        ],
    )
    assert batch.status_code == 207, batch.text
    assert batch.json()["success"] == ["urn:ngsi-ld:Streetlight:hb-3"]
    assert batch.json()["errors"][0]["entityId"] == "urn:ngsi-ld:Streetlight:hb-4"


def test_cli_validate(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps([STREETLIGHT, AIR]))
    bad.write_text(json.dumps({**WATER, "flow": "fast"}))
    runner = CliRunner()
    result = runner.invoke(cli_app, ["devices", "validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "valid Streetlight" in result.output and "valid AirQualityObserved" in result.output
    result = runner.invoke(cli_app, ["devices", "validate", str(bad)])
    assert result.exit_code == 1
    assert "WaterObserved:MNCA-001: flow:" in result.output
    result = runner.invoke(cli_app, ["devices", "schemas"])
    assert result.exit_code == 0 and "TrafficFlowObserved" in result.output
