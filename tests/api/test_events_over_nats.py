"""A write through the API reaches a NATS JetStream subscriber, via the outbox relay."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable

import nats
import orjson
import pytest
from nats.js.api import DeliverPolicy
from starlette.testclient import TestClient

from ioc.demo.builder import DEMO_PASSWORD

NATS_URL = os.environ.get("IOC_TEST_NATS_URL", "nats://127.0.0.1:4222")


async def _collect(subject: str, username: str, box: list[bytes]) -> None:
    """Read the stream from its start until the event about ``username`` shows up."""
    nc = await nats.connect(NATS_URL)
    try:
        sub = await nc.jetstream().subscribe(subject, deliver_policy=DeliverPolicy.ALL)
        while not box:
            msg = await sub.next_msg(timeout=10)
            await msg.ack()
            if orjson.loads(msg.data)["data"].get("username") == username:
                box.append(msg.data)
        await sub.unsubscribe()
    finally:
        await nc.close()


async def _delete_stream(stream: str) -> None:
    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


@pytest.mark.nats
def test_user_created_over_the_api_is_published_on_jetstream(
    app_factory: Callable[..., TestClient],
) -> None:
    # Only this app may relay the outbox: a second app on the same database would race it.
    tag = uuid.uuid4().hex[:8]
    stream, prefix = f"IOC_API_{tag}", f"iocapi{tag}"
    client = app_factory(bus_url=NATS_URL, bus_stream=stream, bus_prefix=prefix)
    assert client.get("/health").json()["bus"] == "nats"
    try:
        token = client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}
        ).json()["access_token"]
        response = client.post(
            "/api/v1/users",
            headers={"Authorization": f"Bearer {token}"},
            json={"username": "nats.watcher", "password": "long-enough", "roles": ["operator"]},
        )
        assert response.status_code == 201, response.text
        box: list[bytes] = []
        asyncio.run(_collect(f"{prefix}.user.created", "nats.watcher", box))
        assert box, "no event arrived on JetStream"
        event = orjson.loads(box[0])
        assert event["type"] == "user.created"
        assert event["data"]["username"] == "nats.watcher"
        assert event["actor"] == "user:admin"
    finally:
        client.__exit__(None, None, None)
        asyncio.run(_delete_stream(stream))
