"""The IOC screen's speed in Debian's Chromium: first render of /ui/ops, and frames per second
while the map moves with 5,000 clustered points, beside a floor measured in the same run.

    python bench/web.py [--db ioc-demo.db] [--loads 5]

Without ``--db`` the full demo is built in a temporary folder first (about 30 s). The server
is one uvicorn worker in this process. *First render* is the time from asking for the page to
the page saying it is ready (``body[data-ready]``: tiles, ranking, chart and map data drawn).
The floor is a bare page that loads the same vendored MapLibre GL and ECharts and draws an
empty map, from the same server. The issue's target: first render < 1.5 s on the demo.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ioc.app import create_app
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.demo.builder import DEMO_PASSWORD, build_demo, is_built
from ioc.serving import serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"]
FLOOR = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/ui/static/vendor/maplibre-gl/maplibre-gl.css">
<script src="/ui/static/vendor/maplibre-gl/maplibre-gl.js"></script>
<script src="/ui/static/vendor/echarts/echarts.min.js"></script></head>
<body style="margin:0"><div id="map" style="width:100vw;height:100vh"></div><script>
const map = new maplibregl.Map({container: "map", center: [105.34, 20.81], zoom: 9,
  style: {version: 8, sources: {}, layers: [{id: "bg", type: "background",
  paint: {"background-color": "#0b1320"}}]}});
map.on("load", () => { document.body.dataset.ready = "1"; });
</script></body></html>"""
FRAMES = """async ([n]) => {
  const map = window.iocMap;
  const features = [];
  for (let i = 0; i < n; i++) {
    const lon = 105.0 + Math.random() * 0.8, lat = 20.3 + Math.random() * 0.9;
    features.push({type: "Feature", geometry: {type: "Point", coordinates: [lon, lat]},
                   properties: {}});
  }
  map.addSource("bench", {type: "geojson", cluster: true, clusterRadius: 40,
                          data: {type: "FeatureCollection", features}});
  map.addLayer({id: "bench", type: "circle", source: "bench",
                paint: {"circle-radius": 5, "circle-color": "#f90"}});
  await new Promise((ok) => map.once("idle", ok));
  let frames = 0;
  const count = () => { frames += 1; if (running) requestAnimationFrame(count); };
  let running = true;
  requestAnimationFrame(count);
  const start = performance.now();
  for (const zoom of [10.5, 9, 11, 9]) {
    map.easeTo({zoom, duration: 750});
    await new Promise((ok) => map.once("moveend", ok));
  }
  running = false;
  return frames / ((performance.now() - start) / 1000);
}"""


def bench_app(database: Database) -> FastAPI:
    """The app, plus the floor page (the vendored libraries and an empty map)."""
    app = create_app(Settings(database_url=database.url), database=database)
    app.router.routes.insert(0, Route("/bench/floor", lambda _: HTMLResponse(FLOOR)))
    return app


def timed_loads(page: Page, url: str, loads: int) -> list[float]:
    """Seconds from asking for ``url`` to ``body[data-ready]``, the first load then reloads."""
    times = []
    for n in range(loads):
        start = time.perf_counter()
        if n == 0:
            page.goto(url)
        else:
            page.reload()
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        times.append(time.perf_counter() - start)
    return times


def line(label: str, times: list[float]) -> str:
    return (
        f"{label:42} first {times[0] * 1000:7.0f} ms   then median "
        f"{statistics.median(times[1:]) * 1000:6.0f} ms, max {max(times[1:]) * 1000:6.0f} ms"
    )


def measure(url: str, loads: int, points: int) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        floor = timed_loads(page, f"{url}/bench/floor", loads)
        page.goto(f"{url}/ui/login?next=/ui/ops")
        page.fill("input[name=username]", "vanhanh")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        page.goto(f"{url}/ui/login")  # start the timed loads from another page
        ops = timed_loads(page, f"{url}/ui/ops", loads)
        fps: Any = page.evaluate(FRAMES, [points])
        browser.close()
    print(f"Chromium headless (software WebGL), 1920×1080, {loads} loads each")
    print(line("floor: MapLibre + ECharts, empty map", floor))
    print(line("ioc /ui/ops (operator, whole province)", ops))
    ratio = statistics.median(ops[1:]) / statistics.median(floor[1:])
    print(f"/ui/ops takes {ratio:.1f}× the floor; target: first render < 1,500 ms")
    print(f"map moving with {points:,} more clustered points: {fps:.0f} frames/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing demo database (default: build the demo)")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--points", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "demo.db"
        database = Database(f"sqlite:///{path}")
        if not path.exists() or not is_built(database):
            print("building the demo …", flush=True)
            build_demo(database)
        try:
            with serve(bench_app(database)) as url:
                measure(url, max(2, args.loads), args.points)
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
