"""The demo's devices step: the Hòa Bình city fleet, written in one transaction."""

from __future__ import annotations

from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.demo.builder import DemoContext
from ioc.simulate.fleet import build
from ioc.simulate.install import install
from ioc.simulate.runner import ACTOR


def devices_step(ctx: DemoContext) -> None:
    """Streetlights, cameras and sensors of Thành phố Hòa Bình (when the demo asks for them)."""
    if not ctx.devices:
        return  # the test suite's shared demo stays without a fleet: its tests count lights
    broker = Broker(ctx.database, Settings(database_url=ctx.database.url))
    with ctx.database.session(ACTOR) as session:
        fleet = build(session)
        installed = install(session, broker, fleet)
    counts = ", ".join(f"{n} {kind}" for kind, n in fleet.counts().items())
    ctx.notes.append(f"devices: {counts} ({installed.devices} registered)")
