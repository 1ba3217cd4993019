"""An in-memory sliding-window rate limiter, and the 429 problem it raises.

The counts live in the memory of one process: each ``ioc serve`` worker counts on its own, so
with N workers a client may get up to N times the limit, and a restart forgets every count.
That is enough to stop a runaway client or a flood from one address; a province that needs an
exact limit across workers puts it in the reverse proxy in front of them (nginx ``limit_req``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

from ioc.core.problems import Problem


class RateLimited(Problem):
    """Too many requests from one client; ``retry_after`` seconds until the next is allowed."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after)
        self.retry_after = retry_after


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window`` seconds (a log of recent hits per key).

    Thread-safe. Refused hits are not counted, so a client that waits ``Retry-After`` gets in.
    Keys idle for a whole window are forgotten once more than ``max_keys`` are tracked.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> float:
        """Count a hit for ``key``: 0.0 if allowed, else the seconds until one would be."""
        with self._lock:
            now = self._clock()
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._forget_idle(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0

    def check(self, key: Hashable, what: str) -> None:
        """Count a hit, or raise :class:`RateLimited` naming ``what`` was limited."""
        wait = self.hit(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise RateLimited(
                f"too many requests from this {what}: at most {self.limit} per "
                f"{self.window:g} seconds; try again in {seconds} s",
                retry_after=seconds,
            )

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in idle:
            del self._hits[key]
        # Still full of active keys: drop the oldest-tracked ones rather than grow without bound.
        excess = len(self._hits) - self.max_keys + 1
        for key in list(self._hits)[: max(excess, 0)]:
            del self._hits[key]
