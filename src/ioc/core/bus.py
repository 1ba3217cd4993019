"""The domain-event bus: in-process for one server, NATS JetStream when several share the work."""

from __future__ import annotations

import asyncio
import functools
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from types import TracebackType
from typing import Self

import orjson

from ioc.core.events import SUBJECT_PREFIX, Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]
Accepts = Callable[[Event], bool]


def accepted(accepts: Accepts | None, event: Event) -> bool:
    """``accepts(event)``, with no test or a failing one taken as yes (the handler decides)."""
    if accepts is None:
        return True
    try:
        return accepts(event)
    except Exception:
        log.exception("the subscriber's test failed on %s %s", event.type, event.id)
        return True


_WILDCARDS = ("*", ">")
YIELD_EVERY = 200  # a subscriber handling a backlog gives the event loop a turn this often


class BusError(RuntimeError):
    """The bus cannot be reached, or refused to take an event."""


class PartlyPublished(BusError):
    """``publish_many`` stopped at a refused event: the ``accepted`` ones before it went out."""

    def __init__(self, accepted: int, cause: BaseException) -> None:
        super().__init__(f"{accepted} event(s) accepted, then: {cause}")
        self.accepted = accepted
        self.cause = cause


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

    async def publish_many(self, events: Sequence[Event]) -> None:
        """Publish ``events`` in order, stopping at the first the bus refuses: that raises
        ``PartlyPublished`` saying how many were accepted before it."""
        for at, event in enumerate(events):
            try:
                await self.publish(event)
            except Exception as exc:
                raise PartlyPublished(at, exc) from exc

    @abstractmethod
    async def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        durable: str | None = None,
        accepts: Accepts | None = None,
    ) -> Subscription:
        """Call ``handler`` for each event whose type matches ``pattern``.

        ``durable`` names a consumer that survives restarts; subscribers sharing a name
        share the work, each event going to one of them. ``accepts`` is a quick test of the
        event as published, asked before the event is copied for the handler: events it
        refuses never reach the handler (on NATS they are acknowledged unhandled). It must
        not change the event; if it raises, the handler gets the event.
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
        self,
        bus: InProcessBus,
        pattern: str,
        handler: Handler,
        durable: str | None,
        accepts: Accepts | None,
    ) -> None:
        super().__init__(pattern, durable)
        self._bus = bus
        self._handler = handler
        self.accepts = accepts
        self._queue: deque[tuple[Event, bytes]] = deque()  # each event with its encoded data
        self._ready = asyncio.Event()
        self._stopped = False
        self._task = asyncio.get_running_loop().create_task(self._work(), name=f"bus:{pattern}")

    def deliver(self, items: list[tuple[Event, bytes]]) -> None:
        self._bus._add_pending(len(items))
        self._queue.extend(items)
        self._ready.set()

    async def _work(self) -> None:
        handled = 0
        while not self._stopped:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            shared, data = self._queue.popleft()
            # a private copy (its data decoded afresh): handlers cannot disturb each other
            event = shared.copy(orjson.loads(data))
            try:
                await self._handler(event)
            except Exception:
                log.exception("handler for %r failed on %s %s", self.pattern, event.type, event.id)
            finally:
                self._bus._add_pending(-1)
            handled += 1
            if handled % YIELD_EVERY == 0:  # a long backlog: let requests on the loop run too
                await asyncio.sleep(0)

    async def unsubscribe(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._bus._remove(self)
        if asyncio.current_task() is not self._task:  # from its own handler: stop after it
            self._task.cancel()
            await asyncio.wait([self._task])
        dropped = len(self._queue)
        self._queue.clear()
        self._bus._add_pending(-dropped)


class InProcessBus(Bus):
    """``memory://``: fan-out inside one process; nothing survives a restart."""

    def __init__(self, *, close_timeout: float = 5.0) -> None:
        self.close_timeout = close_timeout
        self._subs: list[_LocalSubscription] = []
        self._routes: dict[
            str, tuple[list[_LocalSubscription], list[tuple[str, list[_LocalSubscription]]]]
        ] = {}
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
        self._fan_out([event])

    async def publish_many(self, events: Sequence[Event]) -> None:
        """All of ``events`` in one pass: each subscriber's share is queued at once."""
        if self._closed:
            raise PartlyPublished(0, BusError("the in-process bus is closed"))
        for at, event in enumerate(events):
            try:
                validate_type(event.type)
            except ValueError as exc:
                self._fan_out(events[:at])
                raise PartlyPublished(at, exc) from exc
        self._fan_out(events)

    def _fan_out(self, events: Sequence[Event]) -> None:
        shares: dict[_LocalSubscription, list[tuple[Event, bytes]]] = {}
        for event in events:
            plain, groups = self._targets(event.type)
            takers = [sub for sub in plain if accepted(sub.accepts, event)]
            for durable, members in groups:
                turn = self._turns.get(durable, 0)
                self._turns[durable] = turn + 1
                member = members[turn % len(members)]
                if accepted(member.accepts, event):
                    takers.append(member)
            if not takers:
                continue
            data = orjson.dumps(event.data)  # encoded once; each subscriber decodes its own copy
            for sub in takers:
                shares.setdefault(sub, []).append((event, data))
        for sub, items in shares.items():
            sub.deliver(items)

    def _targets(
        self, type_: str
    ) -> tuple[list[_LocalSubscription], list[tuple[str, list[_LocalSubscription]]]]:
        """Who gets events of ``type_``: plain subscribers, and each durable group's members
        (remembered until the subscribers change)."""
        found = self._routes.get(type_)
        if found is None:
            plain: list[_LocalSubscription] = []
            groups: dict[str, list[_LocalSubscription]] = {}
            for sub in self._subs:
                if not matches(sub.pattern, type_):
                    continue
                if sub.durable is None:
                    plain.append(sub)
                else:
                    groups.setdefault(sub.durable, []).append(sub)
            found = self._routes[type_] = (plain, list(groups.items()))
        return found

    async def subscribe(
        self,
        pattern: str,
        handler: Handler,
        *,
        durable: str | None = None,
        accepts: Accepts | None = None,
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
        sub = _LocalSubscription(self, pattern, handler, durable, accepts)
        self._subs.append(sub)
        self._routes.clear()
        return sub

    def _remove(self, sub: _LocalSubscription) -> None:
        with suppress(ValueError):
            self._subs.remove(sub)
        self._routes.clear()

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
