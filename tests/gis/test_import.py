"""Imports: four formats, reprojection, validation, one transaction, boundaries take over."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio.raw import write
from shapely.geometry import LineString, Point, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioc.core import places
from ioc.core.models import Place
from ioc.core.problems import Conflict, Invalid, PayloadTooLarge
from ioc.feedback.service import place_for_point
from ioc.gis import importer, readers
from ioc.gis.models import GisFeature, GisLayer
from tests.gis.conftest import TAN_THINH, geojson_file, ogr_file, point


def _count(session: Session, layer: str) -> int:
    stmt = select(func.count()).select_from(GisFeature).where(GisFeature.layer_id == layer)
    return session.scalar(stmt) or 0


def test_geojson_becomes_a_layer_with_communes(session: Session, tmp_path: Path) -> None:
    path = geojson_file(
        tmp_path / "cams.geojson",
        [point(105.3295, 20.8219, name="Camera A", id="C1"), point(105.3406, 20.8166, name="B")],
    )
    report = importer.import_file(session, path, "cameras-import", title="Cameras")
    session.commit()
    assert (report.received, report.imported, report.rejected, report.format) == (
        2,
        2,
        0,
        "geojson",
    )
    layer = session.get(GisLayer, "cameras-import")
    assert layer is not None and layer.feature_count == 2 and layer.geometry_type == "Point"
    assert {"name": "name", "type": "string"} in layer.properties
    rows = session.scalars(select(GisFeature).where(GisFeature.layer_id == "cameras-import")).all()
    assert sorted(r.fid for r in rows) == ["2", "C1"]
    assert all(r.place_code is not None for r in rows)


def test_zipped_shapefile_in_vn2000_is_reprojected(session: Session, tmp_path: Path) -> None:
    # VN-2000 TM-3 106°00' (Hòa Bình's zone), the CRS read from the .prj
    path = ogr_file(
        tmp_path / "roads",
        [LineString([(433000, 2301000), (433500, 2301200)])],
        ["Đường Cù Chính Lan"],
        "EPSG:9211",
        "ESRI Shapefile",
        zipped=True,
    )
    report = importer.import_file(session, path, "roads-vn2000")
    assert report.format == "shapefile" and "9211" in report.source_crs
    assert report.bbox is not None
    min_lon, min_lat, max_lon, max_lat = report.bbox
    assert 105.3 < min_lon < max_lon < 105.4 and 20.7 < min_lat < max_lat < 20.9
    row = session.scalars(select(GisFeature).where(GisFeature.layer_id == "roads-vn2000")).one()
    assert row.properties["name"] == "Đường Cù Chính Lan"


def test_geopackage_and_csv(session: Session, tmp_path: Path) -> None:
    gpkg = ogr_file(
        tmp_path / "zones.gpkg", [box(105.33, 20.81, 105.34, 20.82)], ["Z1"], "EPSG:4326", "GPKG"
    )
    assert importer.import_file(session, gpkg, "zones-gpkg").imported == 1
    csv = tmp_path / "lights.csv"
    csv.write_text("ma,ten,kinh_do,vi_do\nSL1,Đèn 1,105.331,20.821\nSL2,Đèn 2,105.332,20.822\n")
    report = importer.import_file(session, csv, "lights-csv")
    assert (report.format, report.imported) == ("csv", 2)
    fids = session.scalars(select(GisFeature.fid).where(GisFeature.layer_id == "lights-csv"))
    assert sorted(fids) == ["SL1", "SL2"]


def test_csv_in_vn2000_needs_its_crs(session: Session, tmp_path: Path) -> None:
    csv = tmp_path / "points.csv"
    csv.write_text("name,x,y\nMốc 1,433000,2301000\n")
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, csv, "marks")
    assert "longitude" in str(caught.value.errors)
    report = importer.import_file(session, csv, "marks", crs="VN2000-TM3-106")
    assert report.imported == 1


def test_broken_geometry_refuses_the_whole_file(session: Session, tmp_path: Path) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[105.3, 20.8], [105.31, 20.81], [105.31, 20.8], [105.3, 20.81], [105.3, 20.8]]
        ],
    }
    path = geojson_file(
        tmp_path / "bad.geojson",
        [
            point(105.33, 20.82, name="ok"),
            {"type": "Feature", "properties": {"name": "bowtie"}, "geometry": bowtie},
            {"type": "Feature", "properties": {"name": "none"}, "geometry": None},
        ],
    )
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, path, "bad-layer")
    problems = caught.value.errors[1:]
    assert [e["index"] for e in problems] == [1, 2]
    assert "Self-intersection" in problems[0]["message"]
    assert session.get(GisLayer, "bad-layer") is None and _count(session, "bad-layer") == 0
    report = importer.import_file(session, path, "bad-layer", skip_invalid=True)
    assert (report.imported, report.rejected) == (1, 2)


def test_replacing_a_layer_swaps_all_its_features(session: Session, tmp_path: Path) -> None:
    first = geojson_file(tmp_path / "a.geojson", [point(105.33, 20.82), point(105.34, 20.82)])
    importer.import_file(session, first, "swap")
    second = geojson_file(tmp_path / "b.geojson", [point(105.35, 20.83, name="new")])
    with pytest.raises(Conflict):
        importer.import_file(session, second, "swap")
    report = importer.import_file(session, second, "swap", replace=True)
    assert report.replaced and _count(session, "swap") == 1


def test_a_file_that_is_not_what_its_name_says(session: Session, tmp_path: Path) -> None:
    fake = tmp_path / "roads.zip"
    fake.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(Invalid, match="named as zipped Shapefile but its content is GeoJSON"):
        importer.import_file(session, fake, "fake")
    junk = tmp_path / "data.gpkg"
    junk.write_bytes(b"\x00\x01\x02binary junk" * 10)
    with pytest.raises(Invalid, match="is not GeoJSON"):
        importer.import_file(session, junk, "junk")
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(Invalid, match="GDAL cannot read it"):
        importer.import_file(session, broken, "broken")


def test_an_upload_over_the_limit(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = geojson_file(tmp_path / "big.geojson", [point(105.33, 20.82)] * 50)
    monkeypatch.setattr(readers, "MAX_IMPORT_BYTES", 1000)
    with pytest.raises(PayloadTooLarge):
        importer.import_file(session, path, "big")
    assert session.get(GisLayer, "big") is None


@pytest.mark.parametrize("bad", ["Roads", "admin-units", "a b", ""])
def test_layer_names(bad: str) -> None:
    with pytest.raises(Invalid):
        importer.check_layer_id(bad)


def test_imported_boundaries_take_over_routing(session: Session, tmp_path: Path) -> None:
    tan_thinh = session.get(Place, TAN_THINH)
    assert tan_thinh is not None and tan_thinh.lat is not None and tan_thinh.lon is not None
    # a point far outside Tân Thịnh's box (in Đà Bắc) is routed there once its boundary says so
    far = Point(105.05, 20.85)
    before = places.locate(session, far.y, far.x, "commune")
    assert before is not None and before.code != TAN_THINH
    shape = box(105.04, 20.84, 105.06, 20.86).union(
        box(tan_thinh.lon - 0.01, tan_thinh.lat - 0.01, tan_thinh.lon + 0.01, tan_thinh.lat + 0.01)
    )
    path = geojson_file(
        tmp_path / "communes.geojson",
        [
            {
                "type": "Feature",
                "properties": {"ma_xa": TAN_THINH, "ten": "Tân Thịnh"},
                "geometry": shape.__geo_interface__,
            }
        ],
    )
    report = importer.import_file(
        session, path, "communes", boundaries="ma_xa", category="boundaries"
    )
    session.commit()
    assert report.boundaries == 1
    after = places.locate(session, far.y, far.x, "commune")
    assert after is not None and after.code == TAN_THINH
    # feedback routing asks the same question of the same index
    assert place_for_point(session, far.y, far.x).code == TAN_THINH


def test_boundaries_naming_unknown_places_import_nothing(session: Session, tmp_path: Path) -> None:
    path = geojson_file(
        tmp_path / "x.geojson",
        [
            {
                "type": "Feature",
                "properties": {"ma_xa": "99999"},
                "geometry": box(105.3, 20.8, 105.31, 20.81).__geo_interface__,
            }
        ],
    )
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, path, "communes", boundaries="ma_xa")
    assert "no place" in caught.value.errors[1]["message"]


def test_a_geopackage_of_several_layers_names_the_one_to_import(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "quy_hoach.gpkg"
    ogr_file(path, [box(105.33, 20.81, 105.34, 20.82)], ["Z1"], "EPSG:4326", "GPKG")
    write(  # a second layer in the same file
        str(path),
        geometry=np.array([shapely.to_wkb(Point(105.335, 20.815))], dtype=object),
        field_data=[np.array(["Mốc 1"], dtype=object)],
        fields=["name"],
        geometry_type="Point",
        crs="EPSG:4326",
        driver="GPKG",
        layer="moc_gioi",
        append=False,
    )
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, path, "zones-two")
    assert caught.value.field == "source_layer" and "moc_gioi" in caught.value.detail
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, path, "zones-two", source_layer="rivers")
    assert caught.value.field == "source_layer"
    report = importer.import_file(session, path, "marks-two", source_layer="moc_gioi")
    assert (report.format, report.imported) == ("gpkg", 1)
    assert session.get(GisLayer, "zones-two") is None  # nothing half-made by the refusals
