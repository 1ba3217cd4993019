"""A paho client that reads the wire in large chunks and hands PUBLISH packets over lean.

paho 2.2 reads a packet with three ``recv`` calls (its first byte, its length, its body), one
packet for each ``select``, and builds an ``MQTTMessage``, a ``Properties`` and a topic
match for every message: a third of the bridge's time at a few thousand messages a second.
This client reads whatever the socket holds in one ``recv`` and, for each whole QoS 0/1
PUBLISH in it, calls ``sink(topic, payload, mid, qos)``; every other packet (CONNACK,
SUBACK, PUBACK, PINGRESP, QoS 2 …) goes to paho's own handling unchanged. Acknowledging is
left to the caller (``manual_ack``), as before.

It overrides paho's private ``_packet_read``, so it is tied to the paho pinned in
pyproject.toml; tests/ingest/test_wire.py checks it against a real Mosquitto.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

RECV_BYTES = 1 << 18  # what one recv may take: a few thousand small messages
PUBLISH = 0x30
PUBACK = 0x40
PUBACK_OK = struct.Struct("!BBH")  # PUBACK, remaining length 2, message id: success
Sink = Callable[[str, bytes, int, int], None]


def _in_packet(command: int = 0, packet: bytes = b"") -> Any:
    """paho's record of the packet being read (a whole one: its length is known)."""
    return {
        "command": command,
        "have_remaining": 1 if command else 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": 0,
        "packet": bytearray(packet),
        "to_process": 0,
        "pos": 0,
    }


def variable_int(buf: bytes | bytearray, at: int, end: int) -> tuple[int, int] | None:
    """MQTT's variable byte integer at ``buf[at:end]``: (value, where it ends), or None if its
    bytes are not all there yet. More than four bytes is a protocol error (ValueError)."""
    value, shift = 0, 0
    while at < end:
        byte = buf[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 21:
            raise ValueError("a variable byte integer of more than 4 bytes")
    return None


class ChunkedClient(mqtt.Client):
    """An MQTT v5 paho client with a chunked reader; ``sink`` gets QoS 0/1 messages."""

    def __init__(self, client_id: str, sink: Sink) -> None:
        super().__init__(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        self.sink = sink
        self._rx = bytearray()

    def ack_many(self, mids: list[int]) -> None:
        """PUBACKs (success) for QoS 1 messages, in this order, queued as one write instead
        of a packet, a lock and a wake-up each."""
        if mids:
            packets = b"".join([PUBACK_OK.pack(PUBACK, 2, mid) for mid in mids])
            self._packet_queue(PUBACK, packets, 0, 0)

    def reconnect(self) -> MQTTErrorCode:
        self._rx = bytearray()  # a partial packet of the last connection means nothing now
        return super().reconnect()

    def _packet_read(self) -> MQTTErrorCode:
        """One ``recv``, then every whole packet in the buffer; a partial one waits."""
        try:
            data = self._sock_recv(RECV_BYTES)
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as exc:
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", exc)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        buf = self._rx
        buf += data
        end, pos, rc = len(buf), 0, MQTTErrorCode.MQTT_ERR_SUCCESS
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and end - pos >= 2:
            try:
                found = variable_int(buf, pos + 1, end)
            except ValueError:
                return MQTTErrorCode.MQTT_ERR_PROTOCOL
            if found is None:
                break  # the length itself is not all here yet
            length, at = found
            if end - at < length:
                break
            command, body = buf[pos], bytes(buf[at : at + length])
            pos = at + length
            lean = command & 0xF0 == PUBLISH and command & 0x06 != 0x04  # QoS 0 or 1
            if not (lean and self._publish(command, body)):
                rc = self._paho_handles(command, body)
        del buf[:pos]
        return rc

    def _publish(self, command: int, body: bytes) -> bool:
        """A QoS 0/1 PUBLISH to the sink; False leaves it to paho (a topic alias, a
        malformed packet: paho says what is wrong with it)."""
        try:
            size = (body[0] << 8) | body[1]
            if not size or self._protocol != MQTTProtocolVersion.MQTTv5:
                return False
            topic = body[2 : 2 + size].decode("utf-8", "replace")
            at, mid, qos = 2 + size, 0, (command & 0x06) >> 1
            if qos:
                mid = (body[at] << 8) | body[at + 1]
                at += 2
            # the properties' length; the properties themselves are not needed
            found = variable_int(body, at, len(body))
        except (IndexError, ValueError):
            return False
        if found is None:
            return False
        props, at = found
        if at + props > len(body):
            return False
        self.sink(topic, body[at + props :], mid, qos)
        return True

    def _paho_handles(self, command: int, body: bytes) -> MQTTErrorCode:
        self._in_packet = _in_packet(command, body)
        try:
            return self._packet_handle()
        except MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            self._in_packet = _in_packet()
