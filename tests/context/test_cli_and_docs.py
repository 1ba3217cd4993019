"""`ioc context` on a real database, the OpenAPI description, and the term maps themselves."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ioc.cli import app
from ioc.context.errors import BadRequestData
from ioc.context.jsonld import CORE_TERMS, DEFAULT_VOCAB, NGSI_LD, build_term_map
from tests.context.conftest import Ngsi, link

runner = CliRunner()
URL = "https://contexts.example.vn/air.jsonld"
CONTEXT = {
    "@context": {"aq": "https://smartdatamodels.org/dataModel.Environment/", "pm25": "aq:pm25"}
}


def test_preload_from_a_file_then_use_it(
    ngsi: Ngsi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", ngsi.database.url)
    document = tmp_path / "air.jsonld"
    document.write_bytes(orjson.dumps(CONTEXT))
    result = runner.invoke(app, ["context", "preload", URL, "--file", str(document)])
    assert result.exit_code == 0, result.output
    assert URL in result.output
    listed = runner.invoke(app, ["context", "list"])
    assert listed.exit_code == 0 and "Cached" in listed.output
    assert "ngsi-ld-core-context" in listed.output

    entity = {
        "id": "urn:ngsi-ld:AirQualityObserved:1",
        "type": "AirQualityObserved",
        "pm25": {"value": 9},
    }
    ngsi.create(entity, headers={"Link": link(URL)})
    stored = ngsi.entity("urn:ngsi-ld:AirQualityObserved:1")
    assert "https://smartdatamodels.org/dataModel.Environment/pm25" in stored


def test_preload_errors_are_one_line(
    ngsi: Ngsi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", ngsi.database.url)
    broken = tmp_path / "broken.jsonld"
    broken.write_text("{not json")
    result = runner.invoke(app, ["context", "preload", URL, "--file", str(broken)])
    assert result.exit_code == 2 and "error:" in result.output and "not JSON" in result.output
    no_context = tmp_path / "plain.json"
    no_context.write_text('{"a": 1}')
    result = runner.invoke(app, ["context", "preload", URL, "--file", str(no_context)])
    assert result.exit_code == 2 and "@context" in result.output
    unreachable = runner.invoke(app, ["context", "preload", "http://127.0.0.1:9/x.jsonld"])
    assert unreachable.exit_code == 2 and "cannot be fetched" in unreachable.output


def test_openapi_describes_the_ngsi_ld_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    entities = paths["/ngsi-ld/v1/entities"]
    assert set(entities) == {"get", "post"}
    names = {p["name"] for p in entities["get"]["parameters"]}
    assert {"type", "q", "georel", "count", "NGSILD-Tenant", "link"} <= names
    assert set(paths["/ngsi-ld/v1/entities/{entityId}/attrs/{attrId}"]) == {
        "patch",
        "put",
        "delete",
    }
    assert "/ngsi-ld/v1/jsonldContexts/{contextId}" in paths
    assert "/ngsi-ld/v1/entityOperations/{operation}" in paths


def test_term_maps() -> None:
    assert CORE_TERMS.expand("location") == NGSI_LD + "location"
    assert CORE_TERMS.expand("temperature") == DEFAULT_VOCAB + "temperature"
    assert CORE_TERMS.expand("urn:ngsi-ld:x") == "urn:ngsi-ld:x"
    assert CORE_TERMS.compact(NGSI_LD + "observationSpace") == "observationSpace"
    assert CORE_TERMS.compact(NGSI_LD + "somethingNew") == "ngsi-ld:somethingNew"
    assert CORE_TERMS.compact("http://example.org/a") == "http://example.org/a"

    documents = {
        "https://a.example/base.jsonld": {
            "@context": {"ex": "https://ex.example/", "Lamp": "ex:Lamp"}
        },
        "https://a.example/top.jsonld": {
            "@context": [
                "https://a.example/base.jsonld",
                {"watts": "ex:power", "location": "ex:loc"},
            ]
        },
    }
    terms = build_term_map("https://a.example/top.jsonld", documents.__getitem__)
    assert terms.expand("Lamp") == "https://ex.example/Lamp"
    assert terms.expand("watts") == "https://ex.example/power"
    assert terms.expand("ex:other") == "https://ex.example/other"
    assert terms.expand("location") == NGSI_LD + "location"  # core terms are protected
    assert terms.compact("https://ex.example/power") == "watts"
    assert terms.compact("https://ex.example/unnamed") == "ex:unnamed"

    vocab = build_term_map({"@vocab": "https://v.example/"}, documents.__getitem__)
    assert vocab.expand("anything") == "https://v.example/anything"
    assert vocab.compact("https://v.example/anything") == "anything"

    looping = {"https://a.example/loop.jsonld": {"@context": "https://a.example/loop.jsonld"}}
    with pytest.raises(BadRequestData, match="nest deeper"):
        build_term_map("https://a.example/loop.jsonld", looping.__getitem__)
