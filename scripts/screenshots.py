"""Screenshots of the IOC screen for the README: docs/img/operations.png, brief.png, citizen.png.

    python scripts/screenshots.py [--db ioc-demo.db] [--out docs/img]

Builds a small demo database in a temporary folder unless ``--db`` names one, serves it on a
free loopback port and photographs the pages with Debian's Chromium (``/usr/bin/chromium``),
headless, through Playwright. Nothing is fetched from the internet.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright

from ioc.app import create_app
from ioc.context.api import runtime
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.demo.builder import DEMO_PASSWORD, build_demo, is_built
from ioc.serving import serve
from ioc.simulate.fleet import Sizes
from ioc.simulate.runner import Simulator

CHROMIUM = "/usr/bin/chromium"
FLEET = Sizes(lights=300, cameras=20, air=10, water=6, traffic=10)


def demo_app(database: Database) -> FastAPI:
    """The demo app with a small simulated fleet that has reported once."""
    app = create_app(Settings(database_url=database.url), database=database)
    simulator, _ = Simulator.prepare(database, runtime(app).broker, sizes=FLEET)
    simulator.tick()
    return app


def login(page: Page, url: str, username: str, then: str) -> None:
    page.goto(f"{url}/ui/login?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{then}")
    page.wait_for_selector("body[data-ready]")


def shoot(url: str, out: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"],
        )
        room = browser.new_page(viewport={"width": 1600, "height": 1000})
        login(room, url, "vanhanh", "/ui/ops")
        room.wait_for_selector("#live.up")
        httpx.post(  # a report arriving live, so the feed has something to show
            f"{url}/api/v1/web/citizen/feedback",
            json={"service_code": "road", "lat": 20.8137, "lon": 105.3383, "description": "Ổ gà"},
        ).raise_for_status()
        room.wait_for_selector("#feed li[data-type='feedback.created']")
        room.wait_for_timeout(2500)  # the feed's refresh of tiles and map
        room.check("#layers input[value=dossiers]")  # dossiers on time, shaded by district
        room.wait_for_selector("body[data-gis]")
        room.screenshot(path=out / "operations.png", full_page=True)

        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        login(phone, url, "lanhdao", "/ui/brief")
        phone.screenshot(path=out / "brief.png", full_page=True)

        citizen = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        citizen.goto(f"{url}/ui/citizen")
        citizen.wait_for_selector("body[data-ready]")
        citizen.fill("#description", "Đèn đường trước cổng trường không sáng")
        box = citizen.locator("#pin-map canvas").bounding_box()
        if box:
            citizen.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.45)
        citizen.screenshot(path=out / "citizen.png", full_page=True)
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing demo database (default: build a small one)")
    parser.add_argument("--out", default="docs/img", help="folder for the PNG files")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "demo.db"
        database = Database(f"sqlite:///{path}")
        if not path.exists() or not is_built(database):
            build_demo(database, feedback_days=30)
        try:
            with serve(demo_app(database)) as url:
                shoot(url, out)
        finally:
            database.dispose()
    for name in ("operations.png", "brief.png", "citizen.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
