"""The live feed: domain events from the bus as Server-Sent Events, cut to the caller's scope.

The page reads the stream with ``fetch`` (so the bearer token travels in a header, as on every
other call) and appends each event to its feed without reloading. Each connection subscribes to
the bus for itself and unsubscribes when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ioc.core.auth import Principal
from ioc.core.bus import Bus, Subscription
from ioc.core.deps import SessionDep, require
from ioc.core.events import Event
from ioc.core.problems import Invalid
from ioc.core.scope import Scope
from ioc.devices.entities import Places

router = APIRouter(prefix="/api/v1/web", tags=["web screen"])
Watcher = Annotated[Principal, require("operator", "leader", "agency_staff", "district_admin")]

# What the operations room follows; entity updates (every reading of every sensor) are not news.
TOPICS = ("feedback", "streetlight", "camera", "alert", "dossier")
HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 1000


class ScopeFilter:
    """Whether an event concerns a place (and agency) inside the caller's scope."""

    def __init__(self, scope: Scope, places: Places) -> None:
        self.scope = scope
        self.places = places

    def allows(self, event: Event) -> bool:
        if self.scope.place_path is not None and not self.places.within(
            event.place_code, self.scope.place_path
        ):
            return False
        if self.scope.agency_codes is not None:
            agency = event.data.get("agency_code")
            return isinstance(agency, str) and agency in self.scope.agency_codes
        return True


def frame(event: Event) -> bytes:
    """One SSE message: ``event:`` is the type, ``data:`` the event as JSON on one line."""
    body = orjson.dumps(
        {
            "id": event.id,
            "type": event.type,
            "time": event.time.isoformat(),
            "place_code": event.place_code,
            "subject": event.subject,
            "data": event.data,
        }
    )
    return b"".join(
        (b"id: ", event.id.encode(), b"\nevent: ", event.type.encode(), b"\ndata: ", body, b"\n\n")
    )


async def stream(
    request: Request, bus: Bus, patterns: list[str], allow: ScopeFilter
) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)

    async def handle(event: Event) -> None:
        if allow.allows(event):
            with contextlib.suppress(asyncio.QueueFull):  # a stalled reader drops, never blocks
                queue.put_nowait(event)

    subs: list[Subscription] = []
    try:
        for pattern in patterns:
            subs.append(await bus.subscribe(pattern, handle))
        yield b"retry: 3000\n: connected\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield frame(event)
    finally:
        for sub in subs:
            await sub.unsubscribe()


@router.get("/events", response_class=StreamingResponse)
async def events(
    request: Request,
    session: SessionDep,
    principal: Watcher,
    topics: Annotated[str, Query(description="comma-separated: " + ", ".join(TOPICS))] = ",".join(
        TOPICS
    ),
) -> StreamingResponse:
    """Server-Sent Events of the chosen topics inside the caller's scope, as they happen."""
    chosen = [t.strip() for t in topics.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TOPICS]
    if unknown or not chosen:
        raise Invalid("topics", f"choose from {', '.join(TOPICS)}")
    places = await run_in_threadpool(Places, session)
    await run_in_threadpool(session.close)  # the stream may last hours: hold no connection
    allow = ScopeFilter(principal.scope, places)
    bus: Bus = request.app.state.bus
    return StreamingResponse(
        stream(request, bus, [f"{t}.>" for t in chosen], allow),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
