"""Background consumers of the bus: subscribe under durable names until the bus answers, run a
worker, and give everything back when the server stops.

Capabilities that keep something current from events (indicators, alerts) share this, so each
one retries a bus that is down, and lets a transaction in flight finish on shutdown, the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from ioc.core.bus import Accepts, Bus, Handler, Subscription

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_SECONDS = 5.0


def durable_name(prefix: str, pattern: str) -> str:
    """A durable consumer's name for ``pattern`` (NATS names allow no dots or wildcards)."""
    return f"{prefix}-" + pattern.replace(">", "all").replace("*", "any").replace(".", "-")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread; a cancelled caller still waits for it to end, so a
    transaction is never cut off while the database closes under it."""
    job = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        await asyncio.wait([job])
        raise


async def follow(
    bus: Bus,
    patterns: Iterable[str],
    handler: Handler,
    *,
    durable: str,
    worker: Callable[[], Coroutine[Any, Any, None]],
    what: str,
    accepts: Accepts | None = None,
) -> None:
    """Run ``worker`` while ``handler`` follows ``patterns`` on durable consumers; until cancelled.

    While the bus refuses a subscription (NATS down at start), every subscription made is
    undone and tried again after a pause; the worker runs meanwhile on what arrives.
    ``accepts``: the bus's quick test of each event before it is copied for ``handler``.
    """
    task: asyncio.Task[None] = asyncio.create_task(worker(), name=f"{durable}-worker")
    subs: list[Subscription] = []
    try:
        while not subs:
            try:
                for pattern in patterns:
                    name = durable_name(durable, pattern)
                    sub = await bus.subscribe(pattern, handler, durable=name, accepts=accepts)
                    subs.append(sub)
            except Exception as exc:
                for sub in subs:
                    await sub.unsubscribe()
                subs = []
                log.error("%s cannot follow the %s bus (%s); retrying", what, bus.name, exc)
                await asyncio.sleep(RETRY_SECONDS)
        await task
    finally:
        for sub in subs:
            await sub.unsubscribe()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
