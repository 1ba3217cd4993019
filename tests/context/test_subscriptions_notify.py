"""NGSI-LD notifications end to end: a real HTTP receiver (uvicorn in a thread), real Mosquitto.

Entity writes go through the API, their events through the outbox and the bus to the
notifier, whose notifications reach the receiver over TCP.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import nats
import nats.js.errors
import orjson
import pytest
import uvicorn
from sqlalchemy import select
from starlette.testclient import TestClient
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from ioc.app import create_app
from ioc.context.entities import parse_attributes
from ioc.context.jsonld import CORE_TERMS
from ioc.context.service import Broker
from ioc.core.auth import Principal
from ioc.core.config import Settings
from ioc.core.db import Database
from ioc.core.models import AuditEntry
from ioc.core.scope import Scope
from ioc.core.users import create_api_key, revoke_api_key
from tests.context.conftest import CORE, JSONLD_REL, Ngsi, link, make_key, streetlight

NATS_URL = os.environ.get("IOC_TEST_NATS_URL", "nats://127.0.0.1:4222")
ADMIN = Principal("user", None, "admin", frozenset({"admin"}))
FAST = {"ngsild_notify_retries": 2, "ngsild_notify_backoff": 0.05, "ngsild_notify_timeout": 2.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Receiver:
    """An HTTP server on a free port that keeps what it is sent and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any]] = []
        self.status = 200
        self.delay = 0.0  # seconds before answering
        self._cond = threading.Condition()
        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            loop="asyncio",
            http="h11",
            interface="asgi3",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    async def app(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.status
        with self._cond:
            if status < 300:
                self.received.append((headers, orjson.loads(body)))
            self._cond.notify_all()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def start(self) -> Receiver:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def wait(self, count: int, timeout: float = 10.0) -> list[Any]:
        """The bodies of the first ``count`` notifications, once they are all here."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.received) >= count, timeout)
        assert ok, f"{len(self.received)} notification(s) arrived, expected {count}"
        return [body for _, body in self.received[:count]]

    def quiet(self, count: int, seconds: float = 0.6) -> None:
        """Nothing more than ``count`` arrives within ``seconds``."""
        time.sleep(seconds)
        assert len(self.received) == count, [b for _, b in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


Apps = Callable[..., Ngsi]


@pytest.fixture
def apps(database: Database) -> Iterator[Apps]:
    """Start an app (lifespan and notifier running) on the test database; stop with .close()."""
    clients: list[TestClient] = []
    device = make_key(database)
    connector = make_key(database, "connector", "integration")

    def make(**settings: Any) -> Ngsi:
        app = create_app(
            Settings(database_url=database.url, **{**FAST, **settings}), database=database
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Ngsi(client, database, device, connector)

    yield make
    for client in clients:
        close(client)


def close(client: TestClient) -> None:
    if getattr(client, "_closed_by_test", False):
        return
    client.__exit__(None, None, None)
    client._closed_by_test = True  # type: ignore[attr-defined]


def subscribe(ngsi: Ngsi, uri: str, **extra: Any) -> str:
    notification = extra.pop("notification", {})
    body: dict[str, Any] = {
        "type": "Subscription",
        "entities": [{"type": "Streetlight"}],
        "notification": {
            **notification,
            "endpoint": {"uri": uri, **notification.get("endpoint", {})},
        },
        **extra,
    }
    body = {k: v for k, v in body.items() if v is not None}
    response = ngsi.post("/subscriptions", json=body, headers=ngsi.manager)
    assert response.status_code == 201, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def dim(ngsi: Ngsi, n: int, level: int) -> None:
    response = ngsi.patch(
        f"/entities/urn:ngsi-ld:Streetlight:{n:03d}/attrs/dimmingLevel", json={"value": level}
    )
    assert response.status_code == 204, response.text


def status(ngsi: Ngsi, sid: str) -> dict[str, Any]:
    response = ngsi.get(f"/subscriptions/{sid}", headers=ngsi.manager)
    assert response.status_code == 200, response.text
    notification: dict[str, Any] = response.json()["notification"]
    return notification


def wait_status(ngsi: Ngsi, sid: str, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        found = status(ngsi, sid)
        if test(found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def test_notification_shape_and_status(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps()
    sid = subscribe(
        ngsi,
        receiver.url,
        notification={"endpoint": {"receiverInfo": [{"key": "X-Auth-Token", "value": "t0k"}]}},
    )
    ngsi.create(streetlight(1))
    [note] = receiver.wait(1)
    headers = receiver.received[0][0]
    assert note["type"] == "Notification" and note["subscriptionId"] == sid
    assert note["id"].startswith("urn:ngsi-ld:Notification:")
    assert note["notifiedAt"].endswith("Z")
    [entity] = note["data"]
    assert entity["id"] == "urn:ngsi-ld:Streetlight:001" and entity["type"] == "Streetlight"
    assert entity["dimmingLevel"] == {"type": "Property", "value": 80, "unitCode": "P1"}
    assert headers["content-type"] == "application/json"
    assert headers["link"] == f'<{CORE}>; rel="{JSONLD_REL}"; type="application/ld+json"'
    assert headers["x-auth-token"] == "t0k"
    found = wait_status(ngsi, sid, lambda s: s["timesSent"] == 1)
    assert found["status"] == "ok" and found["timesFailed"] == 0
    assert found["lastSuccess"] == found["lastNotification"] and "lastFailure" not in found


def test_matching_by_type_id_pattern_and_watched(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps()
    by_id = subscribe(
        ngsi, receiver.url, entities=[{"type": "Streetlight", "id": "urn:ngsi-ld:Streetlight:002"}]
    )
    by_pattern = subscribe(
        ngsi, receiver.url, entities=[{"type": "Streetlight", "idPattern": ":00[13]$"}]
    )
    watched = subscribe(ngsi, receiver.url, entities=None, watchedAttributes=["powerState"])
    other_type = subscribe(ngsi, receiver.url, entities=[{"type": "Bench"}])
    for n in (1, 2, 3):
        ngsi.create(streetlight(n))
    # created: 001 → pattern, watched; 002 → id, watched; 003 → pattern, watched
    notes = receiver.wait(6)
    dim(ngsi, 2, 10)  # dimmingLevel: not watched by `watched`
    notes = receiver.wait(7)
    receiver.quiet(7)
    got = sorted((n["subscriptionId"], n["data"][0]["id"][-3:]) for n in notes)
    assert got == sorted(
        [
            (by_pattern, "001"),
            (watched, "001"),
            (by_id, "002"),
            (watched, "002"),
            (by_pattern, "003"),
            (watched, "003"),
            (by_id, "002"),
        ]
    )
    assert other_type not in {s for s, _ in got}


def test_q_geoq_attributes_and_key_values(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps()
    for n, lon in ((1, 105.33), (2, 105.90)):
        ngsi.create(streetlight(n, lon=lon))
    sid = subscribe(
        ngsi,
        receiver.url,
        q="dimmingLevel<50",
        geoQ={
            "geometry": "Point",
            "coordinates": [105.33, 20.81],
            "georel": "near;maxDistance==2000",
        },
        notification={"format": "keyValues", "attributes": ["dimmingLevel"]},
    )
    dim(ngsi, 1, 70)  # fails q
    dim(ngsi, 2, 20)  # fails geoQ (60 km away)
    dim(ngsi, 1, 30)  # both hold
    [note] = receiver.wait(1)
    receiver.quiet(1)
    assert note["subscriptionId"] == sid
    assert note["data"] == [
        {"id": "urn:ngsi-ld:Streetlight:001", "type": "Streetlight", "dimmingLevel": 30}
    ]


def test_ld_json_concise_and_deletion(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps()
    subscribe(
        ngsi,
        receiver.url,
        notificationTrigger=["entityCreated", "entityDeleted"],
        notification={"format": "concise", "endpoint": {"accept": "application/ld+json"}},
    )
    ngsi.create(streetlight(1))
    receiver.wait(1)  # (read when matched: had the entity gone by then, no creation is told)
    dim(ngsi, 1, 5)  # updates are not asked for
    assert ngsi.delete("/entities/urn:ngsi-ld:Streetlight:001").status_code == 204
    created, deleted = receiver.wait(2)
    receiver.quiet(2)
    assert receiver.received[0][0]["content-type"] == "application/ld+json"
    assert created["@context"] == CORE
    assert created["data"][0]["dimmingLevel"] == {"value": 80, "unitCode": "P1"}
    assert created["data"][0]["powerState"] == "on"
    assert deleted["data"][0]["id"] == "urn:ngsi-ld:Streetlight:001"
    assert deleted["data"][0]["deletedAt"].endswith("Z")
    ngsi.create(streetlight(1, dimming=60))  # the same id again, version 1 again: still told
    assert receiver.wait(3)[2]["data"][0]["dimmingLevel"] == {"value": 60, "unitCode": "P1"}


def test_throttling_paused_and_expired(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps()
    ngsi.create(streetlight(1))
    sid = subscribe(ngsi, receiver.url, throttling=1.0)
    dim(ngsi, 1, 10)
    receiver.wait(1)
    dim(ngsi, 1, 20)  # within a second of the first: dropped
    receiver.quiet(1, 0.3)
    time.sleep(0.8)
    dim(ngsi, 1, 30)
    notes = receiver.wait(2)
    assert notes[1]["data"][0]["dimmingLevel"]["value"] == 30
    # Paused, nothing goes; active again, it does.
    assert (
        ngsi.patch(
            f"/subscriptions/{sid}", json={"isActive": False}, headers=ngsi.manager
        ).status_code
        == 204
    )
    time.sleep(1.1)
    dim(ngsi, 1, 40)
    receiver.quiet(2)
    assert (
        ngsi.patch(
            f"/subscriptions/{sid}", json={"isActive": True}, headers=ngsi.manager
        ).status_code
        == 204
    )
    dim(ngsi, 1, 50)
    receiver.wait(3)


def test_dead_receiver_retries_fails_and_recovers(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps()
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    sid = subscribe(ngsi, dead)
    started = time.monotonic()
    ngsi.create(streetlight(1))
    failed = wait_status(ngsi, sid, lambda s: s["timesSent"] == 1)
    # three tries: waits of 0.05 s and 0.1 s between them
    assert time.monotonic() - started >= 0.15
    assert failed["status"] == "failed" and failed["timesFailed"] == 1
    assert failed["lastFailure"] == failed["lastNotification"] and "lastSuccess" not in failed
    assert "lastErrorReason" in failed

    # A receiver answering 500 is retried as well; a 404 is final at once.
    receiver.status = 500
    assert (
        ngsi.patch(
            f"/subscriptions/{sid}",
            json={"notification": {"endpoint": {"uri": receiver.url}}},
            headers=ngsi.manager,
        ).status_code
        == 204
    )
    dim(ngsi, 1, 10)
    found = wait_status(ngsi, sid, lambda s: s["timesSent"] == 2)
    assert found["timesFailed"] == 2 and "HTTP 500" in found["lastErrorReason"]

    receiver.status = 200
    dim(ngsi, 1, 20)
    [note] = receiver.wait(1)
    assert note["data"][0]["dimmingLevel"]["value"] == 20
    found = wait_status(ngsi, sid, lambda s: s["timesSent"] == 3)
    assert found["status"] == "ok" and found["timesFailed"] == 2
    assert found["lastSuccess"] > found["lastFailure"]
    assert "lastErrorReason" not in found


def test_server_error_then_success_within_retries(apps: Apps, receiver: Receiver) -> None:
    """A receiver that fails once and then takes the retry: one notification, status ok."""
    ngsi = apps(ngsild_notify_backoff=0.5)
    receiver.status = 503
    sid = subscribe(ngsi, receiver.url)
    ngsi.create(streetlight(1))
    time.sleep(0.2)
    receiver.status = 200
    receiver.wait(1)
    found = wait_status(ngsi, sid, lambda s: s["timesSent"] == 1)
    assert found["status"] == "ok" and found["timesFailed"] == 0


def test_notifications_survive_a_restart(
    apps: Apps, receiver: Receiver, database: Database
) -> None:
    first = apps()
    sid = subscribe(first, receiver.url)
    first.create(streetlight(1))
    receiver.wait(1)
    close(first.client)

    # While no server runs, an importer writes through the broker: the event waits in the outbox.
    settings = Settings(database_url=database.url)
    broker = Broker(database, settings)
    attrs = parse_attributes({"dimmingLevel": {"type": "Property", "value": 5}}, CORE_TERMS)
    with broker.writing("test:importer") as session:
        broker.append(session, "default", "urn:ngsi-ld:Streetlight:001", attrs, Scope())

    second = apps()  # a new app on the same database: the subscription is still there
    notes = receiver.wait(2)
    assert notes[1]["data"][0]["dimmingLevel"]["value"] == 5
    dim(second, 1, 7)
    notes = receiver.wait(3)
    assert notes[2]["subscriptionId"] == sid
    assert wait_status(second, sid, lambda s: s["timesSent"] == 3)["status"] == "ok"


def test_mqtt_endpoint(apps: Apps) -> None:
    import paho.mqtt.client as mqtt

    topic = f"ioc-test/{time.time_ns()}/lights"
    got: list[Any] = []
    ready = threading.Event()
    arrived = threading.Event()
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(topic, qos=1)

    def on_subscribe(*_: Any) -> None:
        ready.set()

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        got.append(orjson.loads(message.payload))
        arrived.set()

    listener.on_connect = on_connect
    listener.on_subscribe = on_subscribe
    listener.on_message = on_message
    listener.connect("127.0.0.1", 1883)
    listener.loop_start()
    try:
        assert ready.wait(5), "could not subscribe on Mosquitto at 127.0.0.1:1883"
        ngsi = apps()
        sid = subscribe(
            ngsi,
            f"mqtt://127.0.0.1:1883/{topic}",
            notification={
                "format": "keyValues",
                "endpoint": {
                    "receiverInfo": [{"key": "X-Site", "value": "hb"}],
                    "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}],
                },
            },
        )
        ngsi.create(streetlight(1))
        assert arrived.wait(10), "no MQTT notification"
    finally:
        listener.loop_stop()
        listener.disconnect()
    [message] = got
    assert message["metadata"]["Content-Type"] == "application/json"
    assert message["metadata"]["X-Site"] == "hb"
    assert message["body"]["subscriptionId"] == sid
    assert message["body"]["data"][0]["dimmingLevel"] == 80
    assert wait_status(ngsi, sid, lambda s: s["timesSent"] == 1)["status"] == "ok"


def test_mqtt_broker_down_fails(apps: Apps) -> None:
    ngsi = apps()
    sid = subscribe(ngsi, f"mqtt://bob:hunter2@127.0.0.1:{free_port()}/nowhere")
    ngsi.create(streetlight(1))
    found = wait_status(ngsi, sid, lambda s: s["timesSent"] == 1)
    assert found["status"] == "failed" and "MQTT" in found["lastErrorReason"]
    with ngsi.database.session() as session:
        audited = session.scalars(
            select(AuditEntry.after).where(AuditEntry.entity == "ngsi_subscriptions")
        ).all()
    assert audited and "hunter2" not in str(audited) and "bob:***@" in str(audited)


@pytest.mark.nats
def test_two_servers_on_nats_notify_each_change_once(apps: Apps, receiver: Receiver) -> None:
    """Servers sharing a JetStream stream share the durable consumer: one notification each."""
    tag = uuid.uuid4().hex[:12]
    bus = {"bus_url": NATS_URL, "bus_stream": f"IOC_TEST_{tag}", "bus_prefix": f"ioctest{tag}"}
    try:
        first, second = apps(**bus), apps(**bus)
        sid = subscribe(first, receiver.url)
        for n in range(1, 7):
            (first if n % 2 else second).create(streetlight(n))
        notes = receiver.wait(6)
        receiver.quiet(6)
        assert sorted(n["data"][0]["id"][-3:] for n in notes) == [f"00{n}" for n in range(1, 7)]
        assert wait_status(second, sid, lambda s: s["timesSent"] == 6)["status"] == "ok"
    finally:
        asyncio.run(_delete_stream(bus["bus_stream"]))


async def _delete_stream(name: str) -> None:
    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(name)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


def test_a_revoked_owner_falls_silent(apps: Apps, receiver: Receiver, database: Database) -> None:
    ngsi = apps()
    with database.session("test") as session:
        key, secret = create_api_key(session, "partner system", ["connector"])
        key_id = key.id
    partner = {"X-API-Key": secret}
    response = ngsi.post(
        "/subscriptions",
        json={
            "type": "Subscription",
            "entities": [{"type": "Streetlight"}],
            "notification": {"endpoint": {"uri": receiver.url}},
        },
        headers=partner,
    )
    assert response.status_code == 201, response.text
    ngsi.create(streetlight(1))
    receiver.wait(1)
    with database.session("test") as session:
        revoke_api_key(session, key_id, ADMIN)
    time.sleep(0.5)  # the apikey.revoked event reaches the notifier
    dim(ngsi, 1, 10)
    receiver.quiet(1)


def test_notifications_speak_the_subscription_context(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps()
    url = "https://example.org/lights.jsonld"
    ctx = {"@context": {"Lamp": "https://example.org/Lamp", "lux": "https://example.org/lux"}}
    preload = ngsi.post(f"/jsonldContexts?url={url}", json=ctx, headers=ngsi.manager)
    assert preload.status_code == 201, preload.text
    with_link = {**ngsi.manager, "Link": link(url)}
    lamp = {"id": "urn:ngsi-ld:Lamp:1", "type": "Lamp", "lux": {"type": "Property", "value": 3}}
    ngsi.create(lamp, headers={"Link": link(url)})
    body = {
        "type": "Subscription",
        "entities": [{"type": "Lamp"}],
        "q": "lux>5",
        "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url}},
    }
    assert ngsi.post("/subscriptions", json=body, headers=with_link).status_code == 201
    patch = ngsi.patch(
        "/entities/urn:ngsi-ld:Lamp:1/attrs/lux", json={"value": 9}, headers={"Link": link(url)}
    )
    assert patch.status_code == 204, patch.text
    [note] = receiver.wait(1)
    assert note["data"] == [{"id": "urn:ngsi-ld:Lamp:1", "type": "Lamp", "lux": 9}]
    assert receiver.received[0][0]["link"].startswith(f"<{url}>")


def test_a_slow_receiver_times_out(apps: Apps, receiver: Receiver) -> None:
    ngsi = apps(ngsild_notify_timeout=0.3, ngsild_notify_retries=0)
    receiver.delay = 1.0
    sid = subscribe(ngsi, receiver.url)
    ngsi.create(streetlight(1))
    found = wait_status(ngsi, sid, lambda s: s["timesSent"] == 1)
    assert found["status"] == "failed" and "no answer within 0.3 s" in found["lastErrorReason"]


def test_a_burst_arrives_in_order_ending_with_the_last_state(
    apps: Apps, receiver: Receiver
) -> None:
    ngsi = apps()
    ngsi.create(streetlight(1))
    subscribe(ngsi, receiver.url, notification={"format": "keyValues"})
    for level in range(1, 31):
        dim(ngsi, 1, level)
    deadline = time.monotonic() + 10
    while not receiver.received or receiver.received[-1][1]["data"][0]["dimmingLevel"] != 30:
        assert time.monotonic() < deadline, len(receiver.received)
        time.sleep(0.05)
    levels = [body["data"][0]["dimmingLevel"] for _, body in receiver.received]
    assert levels == sorted(set(levels)), levels  # in order, no state twice
