"""The device simulator as a server task (``IOC_DEVICE_SIMULATOR``, turned on by ``ioc demo``).

Readings every ``IOC_DEVICE_SIMULATOR_SECONDS``; in-process (no ``IOC_MQTT_URL``) the lights'
commands are answered every second in between, so operations from the IOC complete promptly.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import FastAPI

from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.feedback.tasks import finish_in_thread
from ioc.simulate.runner import Simulator

log = logging.getLogger(__name__)
COMMAND_POLL_SECONDS = 1.0


async def device_simulator_loop(app: FastAPI) -> None:
    """Stream the Hòa Bình city fleet while the server runs (set up first if missing)."""
    from ioc.context.api import runtime

    settings: Settings = app.state.settings
    if not settings.device_simulator:
        return
    database: Database = app.state.database
    try:
        sim, installed = await finish_in_thread(
            lambda: Simulator.prepare(
                database,
                runtime(app).broker,
                fault_rate=settings.device_simulator_fault_rate,
                mqtt=settings.mqtt_url,
            )
        )
        await asyncio.to_thread(sim.start)
    except Exception:
        log.exception("the device simulator could not start (are Hòa Bình's places loaded?)")
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in sim.fleet.counts().items())
    log.info("device simulator on: %s, every %.0f s", counts, settings.device_simulator_seconds)
    try:
        await _run(sim, settings.device_simulator_seconds)
    finally:
        sim.close()


async def _run(sim: Simulator, interval: float) -> None:
    while True:
        started = time.monotonic()
        try:
            report = await finish_in_thread(sim.tick)
            for device_id, kind in report.faults:
                log.info("simulated fault: %s %s", device_id, kind)
        except Exception:
            log.exception("the device simulator failed a round; going on")
        while (left := interval - (time.monotonic() - started)) > 0:
            await asyncio.sleep(min(COMMAND_POLL_SECONDS, left))
            if sim.link is None:
                try:
                    await finish_in_thread(sim.answer_commands)
                except Exception:
                    log.exception("answering the simulated lights' commands failed")
