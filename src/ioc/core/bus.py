"""The domain-event bus: in-process for one server, NATS JetStream when several share the work."""

from __future__ import annotations

import asyncio
import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from contextlib import suppress
from types import TracebackType
from typing import Self

from ioc.core.events import SUBJECT_PREFIX, Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]

_WILDCARDS = ("*", ">")


class BusError(RuntimeError):
    """The bus cannot be reached, or refused to take an event."""


def _check_tokens(text: str, what: str, *, wildcards: bool) -> list[str]:
    tokens = text.split(".")
    for i, token in enumerate(tokens):
        bad = not token or any(c.isspace() for c in token)
        if token in _WILDCARDS:
            bad = bad or not wildcards or (token == ">" and i != len(tokens) - 1)
        elif "*" in token or ">" in token:
            bad = True
        if bad:
            raise ValueError(f"invalid {what} {text!r}: dot-separated names, wildcards * and >")
    return tokens


def validate_pattern(pattern: str) -> None:
    """Refuse a pattern NATS would refuse, so memory:// and nats:// agree."""
    _check_tokens(pattern, "event pattern", wildcards=True)


@functools.lru_cache(maxsize=8192)  # a few dozen types, published thousands of times a second
def validate_type(type_: str) -> None:
    """Refuse an event type that is not a literal subject (no wildcards, no empty tokens)."""
    _check_tokens(type_, "event type", wildcards=False)


@functools.lru_cache(maxsize=8192)
def matches(pattern: str, type_: str) -> bool:
    """Whether ``type_`` matches a NATS-style ``pattern`` (``*`` one token, ``>`` the rest)."""
    wanted, tokens = pattern.split("."), type_.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > i
        if i >= len(tokens) or token not in ("*", tokens[i]):
            return False
    return len(wanted) == len(tokens)


class Subscription(ABC):
    """A handler attached to the bus until ``unsubscribe()``."""

    def __init__(self, pattern: str, durable: str | None) -> None:
        self.pattern = pattern
        self.durable = durable

    @abstractmethod
    async def unsubscribe(self) -> None:
        """Stop delivering; a durable subscription keeps its place for the next subscriber."""


class Bus(ABC):
    """Publishes domain events and delivers them to subscribers matching their type."""

    @property
    @abstractmethod
    def name(self) -> str:
        """Short backend name for logs and health checks."""

    @abstractmethod
    async def start(self) -> None:
        """Connect and prepare; call once before publishing or subscribing."""

    @abstractmethod
    async def close(self) -> None:
        """Let in-flight handlers finish, then release everything."""

    @abstractmethod
    async def publish(self, event: Event) -> None:
        """Hand ``event`` to the bus; returns once the bus has accepted it."""

    @abstractmethod
    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None
    ) -> Subscription:
        """Call ``handler`` for each event whose type matches ``pattern``.

        ``durable`` names a consumer that survives restarts; subscribers sharing a name
        share the work, each event going to one of them.
        """

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


# --------------------------------------------------------------------------- in-process


class _LocalSubscription(Subscription):
    """One queue and one task per subscriber, so a slow handler only delays itself."""

    def __init__(
        self, bus: InProcessBus, pattern: str, handler: Handler, durable: str | None
    ) -> None:
        super().__init__(pattern, durable)
        self._bus = bus
        self._handler = handler
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._stopped = False
        self._task = asyncio.get_running_loop().create_task(self._work(), name=f"bus:{pattern}")

    def deliver(self, raw: bytes) -> None:
        self._bus._add_pending(1)
        self._queue.put_nowait(raw)

    async def _work(self) -> None:
        while not self._stopped:
            raw = await self._queue.get()
            event = Event.from_json(raw)  # a private copy: handlers cannot disturb each other
            try:
                await self._handler(event)
            except Exception:
                log.exception("handler for %r failed on %s %s", self.pattern, event.type, event.id)
            finally:
                self._bus._add_pending(-1)

    async def unsubscribe(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._bus._remove(self)
        if asyncio.current_task() is not self._task:  # from its own handler: stop after it
            self._task.cancel()
            await asyncio.wait([self._task])
        dropped = self._queue.qsize()
        self._queue = asyncio.Queue()
        self._bus._add_pending(-dropped)


class InProcessBus(Bus):
    """``memory://``: fan-out inside one process; nothing survives a restart."""

    def __init__(self, *, close_timeout: float = 5.0) -> None:
        self.close_timeout = close_timeout
        self._subs: list[_LocalSubscription] = []
        self._turns: dict[str, int] = {}
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    @property
    def name(self) -> str:
        return "memory"

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), self.close_timeout)
        for sub in list(self._subs):
            await sub.unsubscribe()
        self._closed = True

    async def drain(self) -> None:
        """Wait until every published event has been handled (including ones handlers publish)."""
        await self._idle.wait()

    async def publish(self, event: Event) -> None:
        if self._closed:
            raise BusError("the in-process bus is closed")
        validate_type(event.type)
        raw = event.to_json()
        groups: dict[str, list[_LocalSubscription]] = {}
        for sub in self._subs:
            if not matches(sub.pattern, event.type):
                continue
            if sub.durable is None:
                sub.deliver(raw)
            else:
                groups.setdefault(sub.durable, []).append(sub)
        for durable, members in groups.items():
            turn = self._turns.get(durable, 0)
            self._turns[durable] = turn + 1
            members[turn % len(members)].deliver(raw)

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None
    ) -> Subscription:
        if self._closed:
            raise BusError("the in-process bus is closed")
        validate_pattern(pattern)
        if durable is not None:
            for other in self._subs:
                if other.durable == durable and other.pattern != pattern:
                    raise BusError(
                        f"durable {durable!r} follows {other.pattern!r}, not {pattern!r}"
                    )
        sub = _LocalSubscription(self, pattern, handler, durable)
        self._subs.append(sub)
        return sub

    def _remove(self, sub: _LocalSubscription) -> None:
        with suppress(ValueError):
            self._subs.remove(sub)

    def _add_pending(self, n: int) -> None:
        self._pending += n
        if self._pending:
            self._idle.clear()
        else:
            self._idle.set()


def make_bus(url: str, stream: str = "IOC", prefix: str = SUBJECT_PREFIX) -> Bus:
    """The bus ``IOC_BUS_URL`` asks for: ``memory://`` or ``nats://host:port``."""
    scheme = url.partition("://")[0].lower()
    if scheme == "memory":
        return InProcessBus()
    if scheme in ("nats", "tls"):
        from ioc.core.bus_nats import NatsBus

        return NatsBus(url, stream, prefix=prefix)
    raise ValueError(f"IOC_BUS_URL must be memory:// or nats://host:port, not {url!r}")
