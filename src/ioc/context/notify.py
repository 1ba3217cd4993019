"""The notifier: entity changes on the bus → matching subscriptions → notifications.

Subscriptions live in the database; each process keeps the active ones compiled in an index
by tenant and entity type, reloaded before the next change after any subscription changes
(this process's API says so at once, other processes' by a ``context.subscription.*``
event) and every ``REFRESH_SECONDS`` in any case. Entity events (``entity.*``) come through
a durable bus consumer shared by every server, so each change is matched once; a change
committed while no server ran waits in the outbox (and, with NATS JetStream, in the
stream) and is matched when one starts. For a change some subscription might want (type,
id or idPattern, watchedAttributes, trigger) the entity is read once, ``q`` and ``geoQ``
are tested on it, and each notification is queued on its subscription's outlet: one sender
task per subscription (its notifications keep their order), at most
``IOC_NGSILD_NOTIFY_CONCURRENCY`` sending at once across all.

An event matched late finds a later state of its entity: a notification carries the entity
as it was read, and a version already notified to a subscription is not sent to it again.
``throttling`` drops notifications that come sooner than its seconds after the previous one
of the subscription (counted in each process). A deleted entity is notified (to the
``entityDeleted`` trigger) as its id, type and ``deletedAt``; ``q`` and ``geoQ`` cannot be
tested on it and are not. Notifications still queued when a server stops are given
``SHUTDOWN_GRACE`` seconds, then dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import deque
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from ioc.context import render
from ioc.context.api import runtime
from ioc.context.http import JSON_LD, JSONLD_REL
from ioc.context.jsonld import CORE_CONTEXT_URL
from ioc.context.notify_match import Compiled, Index, compile_row
from ioc.context.notify_owners import allowed_owners
from ioc.context.notify_send import Outgoing, Sender
from ioc.context.service import Broker
from ioc.context.store import Stored
from ioc.context.subscription_models import Subscription
from ioc.context.subscriptions import NOTIFIER_STATE
from ioc.core.bus import Accepts, Bus, Handler
from ioc.core.bus import Subscription as BusSubscription
from ioc.core.config import Settings
from ioc.core.db import utcnow
from ioc.core.events import Event

log = logging.getLogger(__name__)

DURABLE = "ioc-ngsild-notify"
REFRESH_SECONDS = 30.0
FOLLOW_RETRY_SECONDS = 5.0
SHUTDOWN_GRACE = 2.0  # seconds a stopping server lets queued notifications go
VERSIONS_KEPT = 100_000  # (subscription, entity) → version last notified; forgotten beyond
OUTLET_LIMIT = 1000  # notifications waiting per subscription; beyond, the oldest are dropped


class Outlet:
    """One subscription's queue of notifications and the task sending them in order."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.queue: deque[Outgoing] = deque()
        self.task: asyncio.Task[None] | None = None

    def put(self, note: Outgoing) -> None:
        if len(self.queue) >= OUTLET_LIMIT:
            dropped = self.queue.popleft()
            log.warning(
                "subscription %s is %d notifications behind; dropping the oldest",
                dropped.subscription,
                OUTLET_LIMIT,
            )
        self.queue.append(note)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    @property
    def busy(self) -> bool:
        return bool(self.queue) or (self.task is not None and not self.task.done())

    async def _drain(self) -> None:
        while self.queue:
            note = self.queue.popleft()
            try:
                await self.sender.deliver(note)
            except Exception:
                log.exception("sending a notification of %s failed", note.subscription)


class Notifier:
    """Matches entity events against the index and hands notifications to the outlets."""

    def __init__(self, broker: Broker, settings: Settings) -> None:
        self.broker = broker
        self.engine = broker.database.dedicated("ngsi-notify")
        self.sender = Sender(self.engine, settings)
        self.index = Index()
        self._stale = True
        self._lock = asyncio.Lock()
        self._outlets: dict[tuple[str, str], Outlet] = {}
        self._last: dict[tuple[str, str], float] = {}  # monotonic time of the last notification
        # (tenant, subscription, entity) → (created, version) last notified: a re-created
        # entity starts at version 1 again, its creation time tells it apart.
        self._versions: dict[tuple[str, str, str], tuple[dt.datetime, int]] = {}

    def invalidate(self) -> None:
        """Reload the subscriptions before matching the next change (safe from any thread)."""
        self._stale = True

    def _load(self) -> list[Compiled]:
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(select(Subscription).where(Subscription.is_active.is_(True)))
            found = [Subscription(**row._mapping) for row in rows]
            allowed = allowed_owners(conn, {row.owner for row in found}, now)
        compiled = []
        for row in found:
            if row.owner not in allowed:
                log.info(
                    "subscription %s of %s is silent: %s may no longer subscribe",
                    row.id,
                    row.tenant,
                    row.owner,
                )
                continue
            try:
                compiled.append(compile_row(row, self.broker))
            except Exception as exc:  # a context gone unreachable, say: skip it, tell why
                log.warning("subscription %s of %s left out: %s", row.id, row.tenant, exc)
                continue
            if row.last_notification is not None and compiled[-1].key not in self._last:
                age = (now - row.last_notification).total_seconds()
                self._last[compiled[-1].key] = time.monotonic() - max(age, 0.0)
        return compiled

    async def fresh(self) -> Index:
        """The index, reloaded first if a subscription changed since the last load."""
        if not self._stale:
            return self.index
        async with self._lock:
            if self._stale:
                self._stale = False
                try:
                    self.index = Index(await asyncio.to_thread(self._load))
                except Exception:
                    self._stale = True
                    raise
                log.debug("%d active NGSI-LD subscriptions", self.index.size)
                self._prune()
        return self.index

    def _prune(self) -> None:
        """Forget the idle outlets and throttling times of subscriptions no longer active."""
        active = self.index.keys
        for key in [k for k, o in self._outlets.items() if k not in active and not o.busy]:
            del self._outlets[key]
        for key in [k for k in self._last if k not in active]:
            del self._last[key]

    async def on_subscription(self, event: Event) -> None:
        self.invalidate()

    def may_want(self, event: Event) -> bool:
        """Whether a subscription may match an ``entity.*`` event: the bus asks before it
        copies the event, so that the many nobody subscribed to cost next to nothing. Yes
        whenever the index is due a reload (a subscription just made is never missed)."""
        if self._stale:
            return True
        data = event.data
        return bool(self.index.candidates(data["tenant"], data["type"]))

    async def on_entity(self, event: Event) -> None:
        """Match one ``entity.*`` event; raises (so the bus redelivers) if the database fails."""
        kind = event.type.rpartition(".")[2]
        data = event.data
        tenant, entity_id, entity_type = data["tenant"], data["id"], data["type"]
        candidates = (await self.fresh()).candidates(tenant, entity_type)
        if not candidates:  # most writes: nobody subscribed to this type
            return
        written = list(data.get("attributes") or ())
        now = utcnow()
        wanted = [c for c in candidates if c.wants(kind, entity_id, written, now, event.time)]
        if not wanted:
            return
        stored: Stored | None = None
        if kind != "deleted":
            stored = await asyncio.to_thread(self._read, tenant, entity_id)
            if stored is None:
                return  # deleted since: its deletion is an event of its own
        for item in wanted:
            if stored is not None and not (item.accepts(stored) and self._new(item, stored)):
                continue
            if not self._due(item):
                continue
            entity = (
                render.entity(
                    stored, item.terms, fmt=item.fmt, sys_attrs=item.sys_attrs, attrs=item.attrs
                )
                if stored is not None
                else {
                    "id": entity_id,
                    "type": item.terms.compact(entity_type),
                    "deletedAt": render.timestamp(event.time),
                }
            )
            self._outlet(item).put(self._outgoing(item, entity, now))

    def _read(self, tenant: str, entity_id: str) -> Stored | None:
        with self.engine.connect() as conn:
            return self.broker.store.read(conn, tenant, entity_id)

    def _new(self, item: Compiled, stored: Stored) -> bool:
        """Not this version of the entity again (events read late find a later one)."""
        key = (item.tenant, item.id, stored.id)
        marker = (stored.created_at, stored.version)
        if self._versions.get(key) == marker:
            return False
        if len(self._versions) >= VERSIONS_KEPT:
            self._versions.clear()
        self._versions[key] = marker
        return True

    def _due(self, item: Compiled) -> bool:
        """Throttling: not sooner than ``throttling`` seconds after the previous one."""
        clock = time.monotonic()
        if item.throttling is not None:
            last = self._last.get(item.key)
            if last is not None and clock - last < item.throttling:
                log.debug("throttled a notification of %s", item.id)
                return False
        self._last[item.key] = clock
        return True

    def _outlet(self, item: Compiled) -> Outlet:
        outlet = self._outlets.get(item.key)
        if outlet is None:
            outlet = self._outlets[item.key] = Outlet(self.sender)
        return outlet

    @staticmethod
    def _outgoing(item: Compiled, entity: dict[str, Any], now: dt.datetime) -> Outgoing:
        accept = item.endpoint.get("accept", "application/json")
        body: dict[str, Any] = {
            "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
            "type": "Notification",
            "subscriptionId": item.id,
            "notifiedAt": render.timestamp(now),
            "data": [entity],
        }
        headers = {"Content-Type": accept}
        context = item.context if item.context is not None else CORE_CONTEXT_URL
        if accept == JSON_LD:
            body["@context"] = context
        else:
            url = context if isinstance(context, str) else CORE_CONTEXT_URL
            headers["Link"] = f'<{url}>; rel="{JSONLD_REL}"; type="{JSON_LD}"'
        headers.update((i["key"], i["value"]) for i in item.receiver_info)
        if item.tenant != "default":
            headers["NGSILD-Tenant"] = item.tenant
        notifier = {i["key"]: i["value"] for i in item.endpoint.get("notifierInfo", ())}
        return Outgoing(item.tenant, item.id, item.endpoint["uri"], body, headers, notifier)

    async def drain(self, timeout: float) -> None:
        """Wait (up to ``timeout``) for the queued notifications to go."""
        tasks = [o.task for o in self._outlets.values() if o.task is not None and not o.task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self) -> None:
        for outlet in self._outlets.values():
            if outlet.task is not None:
                outlet.task.cancel()
        await asyncio.gather(
            *(o.task for o in self._outlets.values() if o.task is not None),
            return_exceptions=True,
        )
        await self.sender.close()


def notifier_of(app: FastAPI) -> Notifier:
    """The app's notifier, made on first use."""
    found: Notifier | None = getattr(app.state, NOTIFIER_STATE, None)
    if found is None:
        found = Notifier(runtime(app).broker, app.state.settings)
        setattr(app.state, NOTIFIER_STATE, found)
    return found


async def follow(bus: Bus, notifier: Notifier) -> list[BusSubscription]:
    """Subscribe to what the notifier needs; all or none, retried until the bus takes them."""
    wanted: list[tuple[str, Handler, str | None, Accepts | None]] = [
        ("entity.*", notifier.on_entity, DURABLE, notifier.may_want),
        ("context.subscription.*", notifier.on_subscription, None, None),
        # Owners revoked, deactivated or changed: their subscriptions fall silent.
        ("apikey.*", notifier.on_subscription, None, None),
        ("user.*", notifier.on_subscription, None, None),
    ]
    while True:
        followed: list[BusSubscription] = []
        try:
            for pattern, handler, durable, accepts in wanted:
                followed.append(
                    await bus.subscribe(pattern, handler, durable=durable, accepts=accepts)
                )
            return followed
        except Exception as exc:
            for sub in followed:
                await sub.unsubscribe()
            log.error(
                "NGSI-LD notifier cannot follow the %s bus (%s); again in %.0f s",
                bus.name,
                exc,
                FOLLOW_RETRY_SECONDS,
            )
            await asyncio.sleep(FOLLOW_RETRY_SECONDS)


async def notification_loop(app: FastAPI) -> None:
    """Background task: follow entity and subscription changes until the server stops."""
    notifier = notifier_of(app)
    bus: Bus = app.state.bus
    followed: list[BusSubscription] = []
    try:
        followed = await follow(bus, notifier)
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            notifier.invalidate()  # expiries, and changes whose event this process missed
    finally:
        for sub in followed:
            await sub.unsubscribe()
        await notifier.drain(SHUTDOWN_GRACE)
        await notifier.close()
        setattr(app.state, NOTIFIER_STATE, None)
