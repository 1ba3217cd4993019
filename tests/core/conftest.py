"""Helpers shared by the bus and outbox tests."""

from __future__ import annotations

import asyncio
import os

import pytest

from ioc.core.events import Event

NATS_URL = os.environ.get("IOC_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Inbox:
    """A handler that keeps what it receives and lets a test wait for it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Event]:
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.events
