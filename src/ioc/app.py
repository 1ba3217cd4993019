"""Builds the FastAPI application from the capability routers."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select, text

from ioc import __version__
from ioc.core.bus import Bus, make_bus
from ioc.core.config import Settings, get_settings
from ioc.core.db import Database
from ioc.core.deps import SessionDep
from ioc.core.http import (
    BodyLimitMiddleware,
    RequestIdMiddleware,
    install_problem_handlers,
)
from ioc.core.models import Meta, Place
from ioc.core.outbox import OutboxRelay, install_commit_hook
from ioc.core.plugins import load_object
from ioc.core.schemas import Health

log = logging.getLogger("ioc")

# Each capability contributes routers; later capabilities add their "module:attribute" here.
ROUTERS = (
    "ioc.core.api:router",
    "ioc.core.api_admin:router",
    "ioc.feedback.open311:router",
    "ioc.feedback.api:router",
    "ioc.context.openapi:router",
    "ioc.ingest.api:router",
    "ioc.ingest.api:south",
    "ioc.devices.api:routers",
    "ioc.services.api:router",
    "ioc.indicators.api:router",
    "ioc.gis.ogcapi:router",
    "ioc.gis.api:router",
    "ioc.alerts.api:router",
    "ioc.web.api:router",
    "ioc.web.layers:router",
    "ioc.web.live:router",
    "ioc.web.citizen:router",
    "ioc.web.media:router",
    "ioc.web.pages:router",
    "ioc.web.docs:router",
)

# Plain ASGI mounts tried before every router: hot paths (devices writing NGSI-LD entities,
# Open311 reports) skip FastAPI's route scanning and dependency solving; a router in ROUTERS
# describes them.
MOUNTS = (
    "ioc.context.api:mount",
    "ioc.feedback.open311:post_route",
    "ioc.web.pages:static",
)


# Tasks that run as long as the server: "module:function", each ``async def f(app) -> None``
# that loops until cancelled; a task decides from app.state.settings whether it has work.
BACKGROUND_TASKS: tuple[str, ...] = (
    "ioc.feedback.tasks:escalation_loop",
    "ioc.feedback.tasks:simulator_loop",
    "ioc.context.notify:notification_loop",
    "ioc.context.temporal_retention:retention_loop",
    "ioc.context.async_reads:reads_task",
    "ioc.ingest.bridge:bridge_task",
    "ioc.devices.tasks:fault_scan_loop",
    "ioc.simulate.tasks:device_simulator_loop",
    "ioc.indicators.recompute:recompute_task",
    "ioc.alerts.engine:alerts_task",
)


def _load_router(path: str) -> APIRouter:
    router: APIRouter = load_object(path)
    return router


def create_app(
    settings: Settings | None = None, database: Database | None = None, bus: Bus | None = None
) -> FastAPI:
    """The whole IOC as one ASGI app; tests pass their own database and bus."""
    settings = settings or get_settings()
    database = database or Database(settings.database_url)
    bus = bus or make_bus(settings.bus_url, settings.bus_stream, settings.bus_prefix)
    relay = OutboxRelay(database, bus)
    install_commit_hook(database.sessionmaker, relay)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await bus.start()
        await relay.start()
        tasks = [
            asyncio.create_task(load_object(path)(app), name=path) for path in BACKGROUND_TASKS
        ]
        log.info("ioc %s serving %s, bus %s", __version__, database.dialect, bus.name)
        # What start-up made lives as long as the server: out of the collector's full passes,
        # which otherwise walk it every few thousand requests and stall the loop ~0.2 s.
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await relay.stop()
            await bus.close()

    app = FastAPI(
        title="ioc — Intelligent Operations Centre",
        version=__version__,
        description=(
            "Provincial IOC API. Errors are RFC 9457 problem+json. Log in at "
            "`POST /api/v1/auth/token` (OAuth2 password flow) or send `X-API-Key`."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by ioc.web.docs from vendored files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.bus = bus
    app.state.relay = relay
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    for path in MOUNTS:
        app.router.routes.append(load_object(path))
    for path in ROUTERS:
        app.include_router(_load_router(path))

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/ops")

    @app.get("/health", tags=["health"])
    def health(session: SessionDep) -> Health:
        """Liveness and what this server is connected to."""
        session.execute(text("SELECT 1"))
        tree = session.scalar(select(Meta.value).where(Meta.key == "place_tree"))
        count = session.scalar(select(func.count()).select_from(Place)) or 0
        return Health(
            status="ok",
            version=__version__,
            database=database.dialect,
            bus=bus.name,
            place_tree=tree,
            places=count,
        )

    return app
