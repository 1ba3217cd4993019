"""The NATS JetStream bus: events kept in a stream, shared by every ioc process."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress

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

from ioc.core.bus import (
    Accepts,
    Bus,
    BusError,
    Handler,
    Subscription,
    accepted,
    validate_pattern,
    validate_type,
)
from ioc.core.events import SUBJECT_PREFIX, Event

log = logging.getLogger(__name__)

DAY = 86_400.0
DURABLE_NAME = re.compile(r"[A-Za-z0-9_-]+")


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
        self,
        pattern: str,
        handler: Handler,
        *,
        durable: str | None = None,
        accepts: Accepts | None = None,
    ) -> Subscription:
        validate_pattern(pattern)
        js = self._jetstream()
        subject = self.subject(pattern)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.NEW,  # a new durable starts now, then never misses one
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
        )
        callback = self._callback(pattern, handler, accepts)
        if durable is None:
            consumer = f"ioc_{uuid.uuid4().hex}"
            config.name = consumer
            config.inactive_threshold = 60.0  # the server cleans up after a crashed process
            psub = await js.subscribe(
                subject, cb=callback, stream=self.stream, config=config, manual_ack=True
            )
        else:
            if not DURABLE_NAME.fullmatch(durable):
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

    def _callback(
        self, pattern: str, handler: Handler, accepts: Accepts | None
    ) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            try:
                event = Event.from_json(msg.data)
            except Exception:
                log.exception("dropping an undecodable message on %s", msg.subject)
                await msg.term()
                return
            if not accepted(accepts, event):
                await msg.ack()  # not this subscriber's: done with it
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
