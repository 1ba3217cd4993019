"""Loading provinces from the GSO dataset, finding places in any spelling, locating points."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ioc.core import places
from ioc.core.db import Database
from ioc.core.models import Meta, Place
from ioc.core.problems import Conflict, Invalid, NotFound
from ioc.core.text import fold, search_key

HOA_BINH_COUNTS = {"province": 1, "district": 10, "commune": 151}
FAR_AWAY = (10.78, 106.70)  # Hồ Chí Minh City


@pytest.fixture
def hoa_binh(database: Database) -> Database:
    with database.session() as s:
        places.load_province(s, "Hòa Bình")
    return database


def test_fold_drops_diacritics_case_and_extra_spaces() -> None:
    assert fold("  Huyện   ĐÀ Bắc ") == "huyen da bac"
    assert fold("Thị trấn Đà Bắc") == fold("thi tran da bac")
    assert search_key("Huyện Đà Bắc", "Đà Bắc", "Huyện", "") == "huyen da bac da bac huyen"


def test_hoa_binh_legacy_has_its_official_units(hoa_binh: Database) -> None:
    with hoa_binh.session() as s:
        by_level = dict(s.execute(select(Place.level, func.count()).group_by(Place.level)).all())
        assert by_level == HOA_BINH_COUNTS
        province = places.get_place(s, "17")
        city = places.get_place(s, "148")
        ward = places.get_place(s, "04789")
        da_bac = places.get_place(s, "150")
        assert s.scalar(select(Meta.value).where(Meta.key == "place_tree")) == "legacy"

    assert (province.name, province.short_name, province.kind) == (
        "Tỉnh Hòa Bình",
        "Hòa Bình",
        "Tỉnh",
    )
    assert (province.level, province.parent_code, province.path) == ("province", None, "17")
    assert (city.name, city.kind, city.level, city.path) == (
        "Thành phố Hòa Bình",
        "Thành phố",
        "district",
        "17/148",
    )
    assert (ward.name, ward.short_name, ward.kind, ward.level) == (
        "Phường Thái Bình",
        "Thái Bình",
        "Phường",
        "commune",
    )
    assert (ward.parent_code, ward.path, ward.tree) == ("148", "17/148/04789", "legacy")
    assert (da_bac.name, da_bac.short_name, da_bac.kind) == ("Huyện Đà Bắc", "Đà Bắc", "Huyện")
    assert da_bac.search_key == "huyen da bac da bac huyen"


def test_centroids_and_boxes_lie_in_the_province(hoa_binh: Database) -> None:
    with hoa_binh.session() as s:
        province = places.get_place(s, "17")
        units = s.scalars(select(Place).where(Place.level != "province")).all()
    assert province.min_lat is not None and province.max_lat is not None
    assert province.min_lon is not None and province.max_lon is not None
    assert 20.2 < province.min_lat < province.lat < province.max_lat < 21.2  # type: ignore[operator]
    assert 104.7 < province.min_lon < province.lon < province.max_lon < 106.0  # type: ignore[operator]
    slack = 0.001  # two communes' boxes overshoot the province's by a few hundred metres
    for p in units:
        assert p.lat is not None and p.lon is not None and p.min_lat is not None, p.code
        assert province.min_lat <= p.lat <= province.max_lat, p.code
        assert province.min_lon <= p.lon <= province.max_lon, p.code
        assert p.min_lat >= province.min_lat - slack and p.max_lat <= province.max_lat + slack  # type: ignore[operator]
        assert p.min_lon >= province.min_lon - slack and p.max_lon <= province.max_lon + slack  # type: ignore[operator]
        assert p.area_km2 is None
    assert {p.kind for p in units if p.level == "commune"} == {"Xã", "Phường", "Thị trấn"}


@pytest.mark.parametrize("spelling", ["Hòa Bình", "Hoa Binh", "hoa binh", "Tỉnh Hòa Bình", "17"])
def test_a_province_resolves_from_any_spelling(spelling: str) -> None:
    assert places.resolve_province(spelling, "legacy").code == "17"


@pytest.mark.parametrize("spelling", ["Hoa Binh", "hoa binh"])
def test_load_by_an_unaccented_name(database: Database, spelling: str) -> None:
    with database.session() as s:
        result = places.load_province(s, spelling)
    assert result.province.name == "Tỉnh Hòa Bình"
    assert result.counts == HOA_BINH_COUNTS


def test_loading_twice_changes_nothing(database: Database) -> None:
    seen: list[tuple[int, int]] = []
    with database.session() as s:
        first = places.load_province(
            s, "17", progress=lambda done, total: seen.append((done, total))
        )
    assert (first.inserted, first.updated, first.unchanged) == (162, 0, 0)
    assert seen[-1] == (162, 162)
    with database.session() as s:
        again = places.load_province(s, "hoa binh")
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 162)
        assert s.scalar(select(func.count()).select_from(Place)) == 162
        places.get_place(s, "150").name = "renamed by hand"
    with database.session() as s:
        repaired = places.load_province(s, "Hòa Bình")
        assert (repaired.inserted, repaired.updated) == (0, 1)
        assert places.get_place(s, "150").name == "Huyện Đà Bắc"


def test_unknown_province_suggests_close_names() -> None:
    with pytest.raises(Invalid) as caught:
        places.resolve_province("Hoa Bin", "legacy")
    assert caught.value.field == "province"
    assert "Hòa Bình" in caught.value.errors[0]["message"]
    with pytest.raises(Invalid, match="give one of its 63"):
        places.resolve_province("Atlantis", "legacy")


def test_provinces_are_listed_per_tree() -> None:
    legacy, current = places.list_provinces("legacy"), places.list_provinces("2025")
    assert (len(legacy), len(current)) == (63, 34)
    assert ("17", "Hòa Bình") in {(p.code, p.short_name) for p in legacy}
    assert "Hòa Bình" not in {p.short_name for p in current}
    with pytest.raises(Invalid, match="tree"):
        places.list_provinces("1976")


def test_2025_tree_has_no_districts(database: Database) -> None:
    with database.session() as s:
        result = places.load_province(s, "Phú Thọ", tree="2025")
        communes = s.scalars(select(Place).where(Place.level == "commune")).all()
        assert s.scalar(select(Meta.value).where(Meta.key == "place_tree")) == "2025"
    assert result.counts["district"] == 0
    assert result.counts["commune"] == len(communes) > 100
    assert {(p.parent_code, p.tree) for p in communes} == {("25", "2025")}
    assert all(p.path == f"25/{p.code}" and len(p.code) == 5 for p in communes)
    assert all(p.min_lat is None and p.max_lon is None for p in communes)
    assert sum(p.area_km2 is not None for p in communes) >= len(communes) - 2
    assert {p.kind for p in communes} <= {"Xã", "Phường", "Đặc khu"}


def test_hoa_binh_in_2025_points_to_phu_tho() -> None:
    with pytest.raises(Invalid, match="Phú Thọ") as caught:
        places.resolve_province("Hoa Binh", "2025")
    assert caught.value.field == "province"


def test_a_database_holds_one_tree(hoa_binh: Database) -> None:
    with pytest.raises(Conflict, match="separate database"), hoa_binh.session() as s:
        places.load_province(s, "Phú Thọ", tree="2025")
    with hoa_binh.session() as s:
        assert s.scalar(select(func.count()).where(Place.tree == "2025")) == 0


def test_search_ignores_diacritics(hoa_binh: Database) -> None:
    with hoa_binh.session() as s:
        for q in ("da bac", "Đà Bắc", "ĐÀ  BẮC"):
            found, total = places.search_places(s, q, None, None, 20, 0)
            assert "150" in {p.code for p in found}, q
            assert total == len(found)
        districts, total = places.search_places(s, "da bac", "district", None, 20, 0)
        assert [p.name for p in districts] == ["Huyện Đà Bắc"] and total == 1
        page, total = places.search_places(s, None, "commune", "148", 5, 5)
        assert total == 19 and len(page) == 5
        assert places.search_places(s, "100%_", None, None, 5, 0) == ([], 0)
        with pytest.raises(Invalid):
            places.search_places(s, None, "village", None, 5, 0)


def test_children_subtree_and_within(hoa_binh: Database) -> None:
    with hoa_binh.session() as s:
        kids = places.children(s, "148")
        subtree = set(s.scalars(places.subtree_codes_stmt("148")))
        assert len(kids) == 19 and [p.code for p in kids] == sorted(p.code for p in kids)
        assert {p.level for p in kids} == {"commune"}
        assert subtree == {"148", *(p.code for p in kids)}
        assert len(set(s.scalars(places.subtree_codes_stmt("17")))) == 162
        assert places.is_within(s, "04789", "148") and places.is_within(s, "04789", "17")
        assert places.is_within(s, "148", "148")
        assert not places.is_within(s, "04789", "150") and not places.is_within(s, "17", "148")
        assert not places.is_within(s, "99999", "17")
        with pytest.raises(NotFound, match="99999"):
            places.get_place(s, "99999")


def test_locate_finds_the_commune_and_district(hoa_binh: Database) -> None:
    with hoa_binh.session() as s:
        communes = s.scalars(select(Place).where(Place.level == "commune")).all()
        own = right_district = 0
        for c in communes:
            assert c.lat is not None and c.lon is not None
            hit = places.locate(s, c.lat, c.lon)
            own += hit is not None and hit.code == c.code
            district = places.locate(s, c.lat, c.lon, level="district")
            right_district += district is not None and district.code == c.parent_code
        assert places.locate(s, *FAR_AWAY) is None
        province = places.locate(s, 20.8, 105.3, level="province")
    assert own >= 0.9 * len(communes)
    assert right_district >= 0.9 * len(communes)
    assert province is not None and province.code == "17"


def test_locate_in_2025_uses_the_nearest_centroid(database: Database) -> None:
    with database.session() as s:
        places.load_province(s, "25", tree="2025")
        ward = places.children(s, "25")[0]
        assert ward.lat is not None and ward.lon is not None
        assert places.locate(s, ward.lat, ward.lon) is ward
        assert places.locate(s, ward.lat, ward.lon, level="province") is places.get_place(s, "25")
        assert places.locate(s, ward.lat, ward.lon, level="district") is None


def test_locate_prefers_a_boundary(hoa_binh: Database) -> None:
    pytest.importorskip("shapely")
    with hoa_binh.session() as s:
        target, other = places.get_place(s, "04789"), places.get_place(s, "04792")
        assert other.lat is not None and other.lon is not None
        lat, lon, d = other.lat, other.lon, 0.01
        ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
        target.boundary = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        target.min_lat, target.max_lat, target.min_lon, target.max_lon = (
            lat - d,
            lat + d,
            lon - d,
            lon + d,
        )
    with hoa_binh.session() as s:
        assert places.locate(s, lat, lon).code == "04789"  # type: ignore[union-attr]
