"""Sending NGSI-LD notifications: HTTP(S) POST or MQTT publish, retried, and the outcome kept.

A notification is tried once and then ``IOC_NGSILD_NOTIFY_RETRIES`` times more, waiting
``IOC_NGSILD_NOTIFY_BACKOFF`` seconds and twice as long before each next try; an answer
other than 2xx, a refused connection or a timeout is a failed try, except that a 4xx other
than 408/429 is final at once (asking again will not change it). Each notification, sent or
failed, is counted on its subscription (``timesSent``, ``timesFailed``, ``lastNotification``,
``lastSuccess``, ``lastFailure``): in memory at once, in the database within
``FLUSH_SECONDS`` (one statement for every subscription that notified meanwhile), so the
notifier does not take SQLite's write lock once per notification.

MQTT endpoints (``mqtt://user:pass@host:1883/topic``, ``mqtts://`` for TLS; see
``notify_mqtt``) get the spec's MQTT binding: ``{"metadata": {headers}, "body":
notification}``, QoS and protocol version from ``notifierInfo`` (``MQTT-QoS``,
``MQTT-Version``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import Engine

from ioc import __version__
from ioc.context.notify_mqtt import MqttPool, SendFailed
from ioc.context.notify_tally import Tally
from ioc.context.subscriptions import redact
from ioc.core.config import Settings
from ioc.core.db import utcnow

log = logging.getLogger(__name__)

FINAL_STATUS = frozenset(range(400, 500)) - {408, 429}
FLUSH_SECONDS = 0.2  # outcomes are counted in memory and written together this often
MAX_ERROR = 500


class SendError(Exception):
    """One try failed; ``final`` says another try would fail the same way."""

    def __init__(self, message: str, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


@dataclass(slots=True)
class Outgoing:
    """One notification, ready to go: where, what, with which headers."""

    tenant: str
    subscription: str
    uri: str
    body: dict[str, Any]
    headers: dict[str, str]
    notifier_info: dict[str, str] = field(default_factory=dict)


class Sender:
    """Delivers notifications with retries, at most ``concurrency`` at a time."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.timeout = settings.ngsild_notify_timeout
        self.retries = settings.ngsild_notify_retries
        self.backoff = settings.ngsild_notify_backoff
        self._slots = asyncio.Semaphore(settings.ngsild_notify_concurrency)
        self.tally = Tally()
        self._flusher: asyncio.Task[None] | None = None
        self._mqtt_pool = MqttPool(self.timeout)
        self._http = httpx.AsyncClient(
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": f"ioc/{__version__} (NGSI-LD notifier)"},
        )

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        await self.flush()
        await self._mqtt_pool.close()
        await self._http.aclose()

    async def deliver(self, note: Outgoing) -> bool:
        """Send with retries, then record the outcome; True when it got through."""
        error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                async with self._slots:
                    await self._send(note)
            except SendError as exc:
                error = str(exc)
                log.info(
                    "notification of %s to %s failed (try %d): %s",
                    note.subscription,
                    redact(note.uri),
                    attempt + 1,
                    error,
                )
                if exc.final:
                    break
            else:
                self.record(note, True, None)
                return True
        log.warning(
            "notification of %s to %s failed: %s", note.subscription, redact(note.uri), error
        )
        self.record(note, False, error[:MAX_ERROR])
        return False

    async def _send(self, note: Outgoing) -> None:
        scheme = urlsplit(note.uri).scheme
        if scheme in ("mqtt", "mqtts"):
            await self._mqtt(note)
        else:
            await self._post(note)

    async def _post(self, note: Outgoing) -> None:
        try:
            response = await self._http.post(
                note.uri, content=orjson.dumps(note.body), headers=note.headers
            )
        except httpx.TimeoutException:
            raise SendError(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise SendError(
                f"the endpoint answered HTTP {response.status_code}",
                final=response.status_code in FINAL_STATUS,
            )

    async def _mqtt(self, note: Outgoing) -> None:
        info = note.notifier_info
        payload = orjson.dumps({"metadata": note.headers, "body": note.body})
        qos, version = int(info.get("MQTT-QoS", "0")), info.get("MQTT-Version", "mqtt3.1.1")
        try:
            await self._mqtt_pool.publish(note.uri, payload, qos, version)
        except SendFailed as exc:
            raise SendError(str(exc)) from None

    def record(self, note: Outgoing, ok: bool, error: str | None) -> None:
        """Count the outcome now; the counts reach the database within ``FLUSH_SECONDS``."""
        self.tally.add(note.tenant, note.subscription, ok, utcnow(), error)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Write the counts gathered so far, one statement for all subscriptions."""
        counts = self.tally.take()
        if not counts:
            return
        try:
            await asyncio.to_thread(self.tally.write, self.engine, counts)
        except Exception:
            log.exception("could not record %d subscriptions' notification counts", len(counts))
