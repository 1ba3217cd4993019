"""MQTT endpoints of NGSI-LD notifications: one kept connection per broker and credentials.

``mqtt://user:pass@host:1883/some/topic`` (``mqtts://`` for TLS, port 8883 by default).
A connection is opened on first use and kept; one that fails is dropped, and the next
try opens a new one. The payload is the spec's MQTT binding, ``{"metadata", "body"}``.
"""

from __future__ import annotations

import asyncio
import ssl
from contextlib import suppress
from urllib.parse import unquote, urlsplit

import aiomqtt

Key = tuple[str, str, int, str | None, str | None, str]


class SendFailed(Exception):
    """The broker could not be reached or did not take the message."""


class MqttPool:
    """Connections to the MQTT brokers notifications go to, reused across notifications."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._clients: dict[Key, aiomqtt.Client] = {}
        self._locks: dict[Key, asyncio.Lock] = {}  # one broker slow to connect delays only itself

    async def publish(self, uri: str, payload: bytes, qos: int, version: str) -> None:
        parts = urlsplit(uri)
        secure = parts.scheme == "mqtts"
        key: Key = (
            parts.scheme,
            parts.hostname or "",
            parts.port or (8883 if secure else 1883),
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            version,
        )
        topic = unquote(parts.path.lstrip("/"))
        try:
            async with asyncio.timeout(self.timeout * 2):
                client = await self._client(key)
                try:
                    await client.publish(topic, payload, qos=qos, timeout=self.timeout)
                except BaseException:
                    await self._drop(key, client)
                    raise
        except TimeoutError:
            raise SendFailed(f"the MQTT broker did not answer within {self.timeout:g} s") from None
        except (aiomqtt.MqttError, OSError) as exc:
            raise SendFailed(f"MQTT: {exc}") from None

    async def _client(self, key: Key) -> aiomqtt.Client:
        async with self._locks.setdefault(key, asyncio.Lock()):
            client = self._clients.get(key)
            if client is None:
                scheme, host, port, username, password, version = key
                client = aiomqtt.Client(
                    host,
                    port,
                    username=username,
                    password=password,
                    protocol=(
                        aiomqtt.ProtocolVersion.V5
                        if version == "mqtt5.0"
                        else aiomqtt.ProtocolVersion.V311
                    ),
                    tls_context=ssl.create_default_context() if scheme == "mqtts" else None,
                    timeout=self.timeout,
                )
                await client.__aenter__()
                self._clients[key] = client
            return client

    async def _drop(self, key: Key, client: aiomqtt.Client) -> None:
        if self._clients.get(key) is client:
            del self._clients[key]
        with suppress(Exception):
            await client.__aexit__(None, None, None)

    async def close(self) -> None:
        for key, client in list(self._clients.items()):
            await self._drop(key, client)
