"""Admission for costly routes: a few at a time, and a quick 503 when the line is too long.

Work a route hands to worker threads competes for one interpreter lock with every other
thread and with the event loop that reads requests. Past a few threads at once nothing goes
faster: each job takes longer, SQLite writers wait on each other, and the event loop starves.
A gate lets ``slots`` jobs run and the rest wait in line on the event loop, where waiting
costs nothing; a caller who cannot get in within ``wait`` seconds gets a 503 with
``Retry-After`` at once, rather than a timeout from an exhausted connection pool much later.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ioc.core.problems import ServiceUnavailable


class Gate:
    """At most ``slots`` holders at once; others wait in line, at most ``wait`` seconds."""

    def __init__(self, slots: int, wait: float, what: str = "requests") -> None:
        if slots < 1 or wait < 0:
            raise ValueError("a gate needs at least one slot and a wait of zero or more")
        self.slots = slots
        self.wait = wait
        self.what = what
        self._semaphore: asyncio.Semaphore | None = None

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        """Hold a slot for the block; raise :class:`ServiceUnavailable` after ``wait``."""
        if self._semaphore is None:  # made lazily: it belongs to the serving event loop
            self._semaphore = asyncio.Semaphore(self.slots)
        semaphore = self._semaphore
        try:
            async with asyncio.timeout(self.wait):
                await semaphore.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                f"the server is too busy to take more {self.what} now; try again in a second",
                headers={"Retry-After": "1"},
            ) from None
        try:
            yield
        finally:
            semaphore.release()
