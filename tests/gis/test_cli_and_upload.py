"""`ioc gis import` / `ioc gis layers`, and imports uploaded over HTTP (size, roles, errors)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ioc.cli import app
from ioc.core.db import Database
from ioc.gis.models import GisLayer
from tests.gis.conftest import geojson_file, point

runner = CliRunner()


def ioc(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_cli_imports_and_lists(
    demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", demo_db.url)
    csv = tmp_path / "poles.csv"
    csv.write_text("name,x,y\nCột 1,433000,2301000\nCột 2,433050,2301010\n")
    code, out = ioc("gis", "import", str(csv), "--layer", "poles", "--crs", "VN2000-TM3-106")
    assert code == 0, out
    assert "imported 2 of 2 features" in out
    code, out = ioc("gis", "layers")
    assert code == 0 and "poles" in out and "bts-stations" in out
    bad = geojson_file(
        tmp_path / "bad.geojson",
        [point(105.3, 20.8), {"type": "Feature", "properties": {}, "geometry": None}],
    )
    code, out = ioc("gis", "import", str(bad), "--layer", "bad")
    assert code == 2 and "has no geometry" in out and "nothing was stored" in out
    code, out = ioc("gis", "import", str(bad), "--layer", "bad", "--crs", "EPSG:0")
    assert code == 2 and "unknown coordinate reference system" in out
    with demo_db.session() as session:
        assert session.get(GisLayer, "bad") is None


def test_upload_by_role_and_errors(
    app_factory: Callable[..., TestClient], auth: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    client = app_factory(max_body_bytes=4096)
    data = geojson_file(tmp_path / "a.geojson", [point(105.33, 20.82, name="A")]).read_bytes()
    files = {"file": ("a.geojson", data, "application/geo+json")}
    assert client.post("/api/v1/gis/layers/uploaded/import", files=files).status_code == 401
    citizen = client.post(
        "/api/v1/gis/layers/uploaded/import", files=files, headers=auth("congdan")
    )
    assert citizen.status_code == 403
    done = client.post("/api/v1/gis/layers/uploaded/import", files=files, headers=auth("vanhanh"))
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 1
    assert client.get("/ogcapi/collections/uploaded/items").json()["numberMatched"] == 1
    again = client.post("/api/v1/gis/layers/uploaded/import", files=files, headers=auth("vanhanh"))
    assert again.status_code == 409
    assert client.delete("/api/v1/gis/layers/uploaded", headers=auth("congdan")).status_code == 403
    assert client.delete("/api/v1/gis/layers/uploaded", headers=auth("vanhanh")).status_code == 204
    assert client.get("/ogcapi/collections/uploaded").status_code == 404
    raw = client.post(
        "/api/v1/gis/layers/raw/import?filename=r.zip",
        content=data,
        headers={**auth("vanhanh"), "Content-Type": "application/octet-stream"},
    )
    assert raw.status_code == 422 and raw.json()["errors"][0]["field"] == "file"
    big = client.post(
        "/api/v1/gis/layers/big/import",
        content=b"{" + b" " * 10_000 + b"}",
        headers={**auth("vanhanh"), "Content-Type": "application/geo+json"},
    )
    assert big.status_code == 413
    assert client.get("/ogcapi/collections/big").status_code == 404
    assert (
        client.post(
            "/api/v1/gis/layers/x/import?boundaries=ma", files=files, headers=auth("vanhanh")
        ).status_code
        == 403
    )
