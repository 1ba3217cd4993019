"""The streetlight fault scan as a server task: every ``IOC_STREETLIGHT_SCAN_MINUTES``."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from sqlalchemy import text

from ioc.context.service import Broker
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.devices.faults import Rules, ScanResult, scan

log = logging.getLogger(__name__)

SCAN_ACTOR = "system:streetlight-scan"
SCAN_LOCK = 0x10C_11CE  # PostgreSQL advisory lock: one server scans per round


def scan_once(database: Database, broker: Broker, rules: Rules) -> ScanResult | None:
    """One scan in its own transaction; None when another server holds the round."""
    with database.session(SCAN_ACTOR) as session:
        if database.dialect == "postgresql":
            locked = session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SCAN_LOCK}
            )
            if not locked:
                return None
        return scan(session, broker, rules)


async def fault_scan_loop(app: FastAPI) -> None:
    """Scan the streetlights for faults, publishing ``streetlight.fault`` for each new one."""
    from ioc.context.api import runtime

    settings: Settings = app.state.settings
    database: Database = app.state.database
    interval = settings.streetlight_scan_minutes * 60
    rules = Rules.of(settings)
    while True:
        await asyncio.sleep(interval)
        try:
            result = await asyncio.to_thread(scan_once, database, runtime(app).broker, rules)
        except Exception:
            log.exception("the streetlight fault scan failed; next try in %.0f s", interval)
            continue
        if result is not None and (result.found or result.cleared):
            log.info(
                "streetlight scan: %d new fault(s), %d cleared",
                len(result.found),
                len(result.cleared),
            )
