"""The operations map's further layers in the browser: cameras and sensors with popups, dossiers
by place, and the GIS collections listed from /ogcapi, fetched for the view when switched on."""

from __future__ import annotations

from typing import Any

from ioc.core.models import Place
from tests.web.conftest import SMALL_FLEET, Live
from tests.web.test_browser import Page, api, tab  # noqa: F401  (tab: the fixture)

DA_BAC = "150"
DRAWN = {"admin-units", "feedback-reports", "streetlights", "cameras"}


def jump(page: Any, lon: float, lat: float, zoom: float) -> None:
    page.evaluate(
        f"() => new Promise((r) => {{ window.iocMap.once('idle', r);"
        f" window.iocMap.jumpTo({{ center: [{lon}, {lat}], zoom: {zoom} }}); }})"
    )


def click_at(page: Any, lon: float, lat: float) -> None:
    point = page.evaluate(f"() => window.iocMap.project([{lon}, {lat}])")
    box = page.locator("#map canvas").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def features(page: Any, source: str) -> Any:
    return page.evaluate(f"() => window.iocMap.getSource('{source}')._data.features")


def test_device_and_dossier_layers(tab: Page, live: Live) -> None:  # noqa: F811
    tab.login("vanhanh", "/ui/ops")
    page = tab.page
    page.wait_for_selector("body[data-layers]")
    assert len(features(page, "cameras")) == SMALL_FLEET.cameras
    sensors = features(page, "sensors")
    assert len(sensors) == SMALL_FLEET.air + SMALL_FLEET.water + SMALL_FLEET.traffic

    # Alone on the map, a river gauge opens its popup with its latest level.
    for layer in ("feedback", "lights", "cameras", "units"):
        page.uncheck(f"#layers input[value={layer}]")
    gauge = next(f for f in sensors if f["properties"]["kind"] == "water")
    lon, lat = gauge["geometry"]["coordinates"]
    jump(page, lon, lat, 17)
    click_at(page, lon, lat)
    popup = page.wait_for_selector("[data-popup=sensor]")
    assert "Mực nước" in popup.inner_text()

    # Dossiers by district: the shading carries the services' own on-time %.
    page.check("#layers input[value=dossiers]")
    assert (
        page.evaluate("() => iocMap.getLayoutProperty('dossiers-fill', 'visibility')") == "visible"
    )
    start = page.evaluate("() => import('/ui/static/js/common.js').then(m => m.localDay(29))")
    end = page.evaluate("() => import('/ui/static/js/common.js').then(m => m.localDay())")
    measured = api(live, "/api/v1/services/measures", by="district", **{"from": start, "to": end})
    group = next(g for g in measured["groups"] if g["key"] and g["resolved"])
    shaded = {f["properties"]["code"]: f["properties"] for f in features(page, "dossiers")}
    assert shaded[group["key"]]["on_time_pct"] == group["on_time_pct"]
    assert shaded[group["key"]]["received"] == group["received"]


def test_gis_layers_from_ogcapi(tab: Page, live: Live) -> None:  # noqa: F811
    tab.login("vanhanh", "/ui/ops")
    page = tab.page
    page.wait_for_selector("body[data-gis]")
    listed = api(live, "/ogcapi/collections")["collections"]
    wanted = sorted(c["id"] for c in listed if c["id"] not in DRAWN)
    shown = page.eval_on_selector_all(
        "#gis-layers label", "(ls) => ls.map((l) => l.dataset.collection)"
    )
    assert sorted(shown) == wanted and "parcels" in wanted

    # Parcels near one of them: fetched for the view, clicked, details and history shown.
    parcel = api(live, "/ogcapi/collections/parcels/items", limit=1)["features"][0]
    ring = parcel["geometry"]["coordinates"][0]
    lon = sum(c[0] for c in ring[:-1]) / (len(ring) - 1)
    lat = sum(c[1] for c in ring[:-1]) / (len(ring) - 1)
    for layer in ("feedback", "lights", "cameras", "sensors", "units"):
        page.uncheck(f"#layers input[value={layer}]")
    jump(page, lon, lat, 18)
    page.click("#gis-layers summary")  # the GIS list starts folded
    page.check("#layers input[value='gis:parcels']")
    page.wait_for_selector("#gis-layers label[data-collection=parcels][data-count]")
    assert int(page.get_attribute("label[data-collection=parcels]", "data-count") or 0) > 0
    page.evaluate("() => new Promise((r) => window.iocMap.once('idle', r))")
    click_at(page, lon, lat)
    popup = page.wait_for_selector("[data-popup=gis-parcels]")
    assert parcel["properties"]["key"] in popup.inner_text()
    page.wait_for_selector("[data-popup=gis-parcels] ol.history li")


def test_imported_boundary_is_the_units_shape(tab: Page, live: Live) -> None:  # noqa: F811
    """As ``ioc gis import --boundaries`` leaves a place: a (Multi)Polygon and its bounds."""
    with live.database.session("test") as session:
        place = session.get(Place, DA_BAC)
        assert place is not None and place.lon is not None and place.lat is not None
        x, y, d = place.lon, place.lat, 0.04
        ring = [[x - d, y], [x, y - d], [x + d, y], [x, y + d], [x - d, y]]
        place.boundary = {"type": "MultiPolygon", "coordinates": [[ring]]}
        place.min_lon, place.min_lat, place.max_lon, place.max_lat = x - d, y - d, x + d, y + d
    units = api(live, "/api/v1/web/units")
    drawn = next(f for f in units["features"] if f["id"] == DA_BAC)
    assert drawn["properties"]["shape"] == "boundary"
    assert drawn["geometry"]["coordinates"] == [[ring]]

    tab.login("vanhanh", "/ui/ops")
    page = tab.page
    page.wait_for_selector("body[data-ready]")
    for layer in ("feedback", "lights", "cameras", "sensors"):
        page.uncheck(f"#layers input[value={layer}]")
    jump(page, x, y, 10)
    click_at(page, x, y)  # inside the diamond, where other districts' boxes overlap it
    page.wait_for_selector(f"body[data-ready='{DA_BAC}']")
    own = next(f for f in features(page, "units") if f["properties"].get("self"))
    assert own["geometry"]["type"] == "MultiPolygon"
