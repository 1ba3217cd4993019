"""The domain-event bus: in-process for one server, NATS JetStream when several share the work."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from contextlib import suppress
from types import TracebackType
from typing import Self

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from ioc.core.events import SUBJECT_PREFIX, Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]

DAY = 86_400.0
_WILDCARDS = ("*", ">")
_DURABLE_NAME = re.compile(r"[A-Za-z0-9_-]+")


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


def validate_type(type_: str) -> None:
    """Refuse an event type that is not a literal subject (no wildcards, no empty tokens)."""
    _check_tokens(type_, "event type", wildcards=False)


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


# --------------------------------------------------------------------------- NATS JetStream


class _NatsSubscription(Subscription):
    """A push consumer on the stream; durable ones use a deliver group so workers share them."""

    def __init__(
        self,
        bus: NatsBus,
        pattern: str,
        durable: str | None,
        consumer: str,
        psub: JetStreamContext.PushSubscription,
    ) -> None:
        super().__init__(pattern, durable)
        self.consumer = consumer
        self._bus = bus
        self._psub = psub
        self._active = True

    async def unsubscribe(self) -> None:
        if not self._active:
            return
        self._active = False
        self._bus._subs.discard(self)
        nc = self._bus._nc
        if nc is None or nc.is_closed or nc.is_draining:
            return
        try:
            await self._psub.drain()  # type: ignore[no-untyped-call]  # lets a handler finish
        except nats.errors.Error as exc:
            log.warning("could not drain subscription %r: %s", self.pattern, exc)
        if self.durable is None:
            try:
                await self._bus._jetstream().delete_consumer(self._bus.stream, self.consumer)
            except NotFoundError:
                pass
            except nats.errors.Error as exc:  # the server drops it after inactive_threshold
                log.warning("could not delete consumer %s: %s", self.consumer, exc)


class NatsBus(Bus):
    """``nats://``: a JetStream stream holds ``<prefix>.>`` so events survive restarts."""

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        stream: str = "IOC",
        *,
        prefix: str = SUBJECT_PREFIX,
        max_age: float = 30 * DAY,
        duplicate_window: float = 120.0,
        ack_wait: float = 30.0,
        nak_delay: float = 1.0,
        timeout: float = 5.0,
        connect_retries: int = 1,
    ) -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.max_age = max_age
        self.duplicate_window = duplicate_window
        self.ack_wait = ack_wait
        self.nak_delay = nak_delay
        self.timeout = timeout
        self.connect_retries = max(1, connect_retries)  # nats-py reads 0 as 'forever'
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._subs: set[_NatsSubscription] = set()

    @property
    def name(self) -> str:
        return "nats"

    def subject(self, type_or_pattern: str) -> str:
        """The NATS subject of an event type (or pattern) on this bus."""
        return f"{self.prefix}.{type_or_pattern}"

    async def start(self) -> None:
        if self._nc is not None:
            return
        nc = NatsClient()
        try:
            await nc.connect(
                servers=[self.url],
                name="ioc",
                connect_timeout=max(1, round(self.timeout)),
                max_reconnect_attempts=self.connect_retries,
                reconnect_time_wait=1,
                drain_timeout=max(1, round(self.timeout)),
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
            )
        except Exception as exc:
            cause = nc.last_error or exc
            with suppress(Exception):
                await nc.close()
            raise BusError(
                f"cannot connect to the event bus at {self.url} (IOC_BUS_URL): {cause}"
            ) from exc
        # Fail fast above, but once up keep reconnecting for as long as the process lives.
        nc.options["max_reconnect_attempts"] = -1
        self._nc = nc
        self._js = nc.jetstream(timeout=self.timeout)
        try:
            await self._ensure_stream()
        except Exception as exc:
            await self._shutdown()
            raise BusError(
                f"cannot set up JetStream stream {self.stream} at {self.url} (IOC_BUS_URL;"
                f" is nats-server running with -js?): {exc}"
            ) from exc

    async def _ensure_stream(self) -> None:
        js = self._jetstream()
        subjects = [self.subject(">")]
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=self.stream,
                    description="ioc domain events",
                    subjects=subjects,
                    retention=RetentionPolicy.LIMITS,
                    storage=StorageType.FILE,
                    max_age=self.max_age,
                    duplicate_window=self.duplicate_window,
                )
            )
            log.info("created JetStream stream %s for %s", self.stream, subjects[0])
            return
        config = info.config
        wanted = (subjects, self.max_age, self.duplicate_window)
        if (config.subjects, config.max_age, config.duplicate_window) != wanted:
            config.subjects = subjects
            config.max_age = self.max_age
            config.duplicate_window = self.duplicate_window
            await js.update_stream(config)
            log.info("updated JetStream stream %s", self.stream)

    async def close(self) -> None:
        for sub in list(self._subs):
            await sub.unsubscribe()
        await self._shutdown()

    async def _shutdown(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is None or nc.is_closed:
            return
        try:
            await nc.drain()
        except Exception as exc:
            log.warning("closing the NATS connection without draining: %s", exc)
            await nc.close()

    async def publish(self, event: Event) -> None:
        validate_type(event.type)
        js = self._jetstream()
        try:
            ack = await js.publish(
                self.subject(event.type),
                event.to_json(),
                headers={"Nats-Msg-Id": event.id},  # the server drops a re-published outbox row
                stream=self.stream,
            )
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            raise BusError(f"publishing {event.type} {event.id} to {self.url}: {exc}") from exc
        if ack.duplicate:
            log.debug("JetStream already holds %s %s", event.type, event.id)

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None
    ) -> Subscription:
        validate_pattern(pattern)
        js = self._jetstream()
        subject = self.subject(pattern)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.NEW,  # a new durable starts now, then never misses one
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
        )
        callback = self._callback(pattern, handler)
        if durable is None:
            consumer = f"ioc_{uuid.uuid4().hex}"
            config.name = consumer
            config.inactive_threshold = 60.0  # the server cleans up after a crashed process
            psub = await js.subscribe(
                subject, cb=callback, stream=self.stream, config=config, manual_ack=True
            )
        else:
            if not _DURABLE_NAME.fullmatch(durable):
                raise ValueError(f"invalid durable name {durable!r}: letters, digits, - and _")
            await self._check_durable(durable, subject)
            consumer = durable
            psub = await js.subscribe(
                subject,
                queue=durable,
                cb=callback,
                stream=self.stream,
                config=config,
                manual_ack=True,
            )
        sub = _NatsSubscription(self, pattern, durable, consumer, psub)
        self._subs.add(sub)
        return sub

    async def _check_durable(self, durable: str, subject: str) -> None:
        try:
            info = await self._jetstream().consumer_info(self.stream, durable)
        except NotFoundError:
            return
        if info.config.filter_subject != subject:
            raise BusError(
                f"durable consumer {durable!r} of stream {self.stream} follows"
                f" {info.config.filter_subject}, not {subject}; delete it to change its pattern"
            )

    def _callback(self, pattern: str, handler: Handler) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            try:
                event = Event.from_json(msg.data)
            except Exception:
                log.exception("dropping an undecodable message on %s", msg.subject)
                await msg.term()
                return
            try:
                await handler(event)
            except Exception:
                log.exception(
                    "handler for %r failed on %s %s; redelivering", pattern, event.type, event.id
                )
                await msg.nak(delay=self.nak_delay)
            else:
                await msg.ack()

        return on_message

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise BusError(f"the NATS bus at {self.url} is not started")
        return self._js

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS at %s: %s", self.url, str(exc) or type(exc).__name__)

    async def _on_disconnected(self) -> None:
        log.warning("disconnected from NATS at %s; reconnecting", self.url)

    async def _on_reconnected(self) -> None:
        log.info("reconnected to NATS at %s", self.url)


def make_bus(url: str, stream: str = "IOC") -> Bus:
    """The bus ``IOC_BUS_URL`` asks for: ``memory://`` or ``nats://host:port``."""
    scheme = url.partition("://")[0].lower()
    if scheme == "memory":
        return InProcessBus()
    if scheme in ("nats", "tls"):
        return NatsBus(url, stream)
    raise ValueError(f"IOC_BUS_URL must be memory:// or nats://host:port, not {url!r}")
