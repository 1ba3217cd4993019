"""The screen's fixtures: the demo app served by uvicorn, a small streetlight fleet whose lamps
answer commands (the in-process simulator), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ioc.app import create_app
from ioc.context.api import runtime
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.serving import serve
from ioc.simulate.fleet import Sizes
from ioc.simulate.runner import Simulator

CHROMIUM = "/usr/bin/chromium"
# The smallest PNG there is (1x1, grey): a citizen's photo in the tests.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a4944415478da63f80f00010101001c2b1e5a0000000049454e44ae426082"
)
SMALL_FLEET = Sizes(lights=40, cameras=3, air=2, water=2, traffic=2)


@dataclass
class Live:
    """A running server: its URL, database, the fleet's simulator and errors it logged."""

    url: str
    database: Database
    simulator: Simulator
    app: object
    stop: threading.Event = field(default_factory=threading.Event)


def _answer_commands(live: Live) -> None:
    """The lamps' side of the command channel, as the demo's simulator does between ticks."""
    while not live.stop.wait(0.3):
        live.simulator.answer_commands()


@pytest.fixture
def live(demo_db: Database, tmp_path: Path) -> Iterator[Live]:
    """The demo app on a free loopback port, with 40 streetlights that obey commands."""
    settings = Settings(database_url=demo_db.url, web_media_dir=str(tmp_path / "media"))
    app = create_app(settings, database=demo_db)
    broker = runtime(app).broker
    simulator, _ = Simulator.prepare(demo_db, broker, sizes=SMALL_FLEET)
    simulator.tick()  # every light reports once, so the map has states to draw
    with serve(app) as url:
        running = Live(url, demo_db, simulator, app)
        lamps = threading.Thread(target=_answer_commands, args=(running,), daemon=True)
        lamps.start()
        try:
            yield running
        finally:
            running.stop.set()
            lamps.join(5)


@pytest.fixture(scope="package")  # its event loop must not outlive tests/web
def browser() -> Iterator[object]:
    """Debian's Chromium, headless; the suite never downloads a browser."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium): browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"],
        )
        yield chromium
        chromium.close()
