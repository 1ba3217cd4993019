"""The chunked paho reader against the real Mosquitto: every message whole, in order, and
acknowledged ones only (a persistent session gives the others back)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ioc.ingest.bridge import broker_address
from ioc.ingest.wire import RECV_BYTES, ChunkedClient, variable_int
from tests.ingest.conftest import MQTT_URL, Publisher, forget_session, wait_for


class Receiver:
    """A ChunkedClient with a persistent session that keeps what its sink gets."""

    def __init__(self, client_id: str, topic: str) -> None:
        self.got: list[tuple[str, bytes, int, int]] = []
        self.subscribed = threading.Event()
        self.client = ChunkedClient(client_id, lambda *message: self.got.append(message))
        self.client.on_connect = lambda c, *_: c.subscribe(topic, 1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect(*broker_address(MQTT_URL), clean_start=False, properties=props)
        self.client.loop_start()
        assert self.subscribed.wait(10), "no SUBACK"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def client_id() -> Iterator[str]:
    name = "ioc-wire-test-" + uuid.uuid4().hex[:8]
    yield name
    forget_session(name)


def test_every_message_whole_and_in_order(client_id: str, key: str, publisher: Publisher) -> None:
    receiver = Receiver(client_id, f"/{key}/#")
    sizes = [0, 1, 126, 127, 128, 16_383, 16_384, RECV_BYTES + 5, 3, 200_000, 7]
    sent = []
    for n, size in enumerate(sizes * 20):  # long and short, split across reads every way
        topic, payload = f"/{key}/dev-{n % 7}/attrs", bytes([n % 251]) * size
        qos = n % 2
        if qos:
            publisher.send(topic, payload, qos=1)
        else:
            publisher.client.publish(topic, payload, qos=0)
        sent.append((topic, payload, qos))
    wait_for(lambda: len(receiver.got) >= len(sent), timeout=30, what="every message")
    receiver.close()
    assert [(t, p, q) for t, p, _, q in receiver.got] == sent
    assert all(mid for _, _, mid, qos in receiver.got if qos == 1)


def test_only_what_was_acknowledged_is_gone(client_id: str, key: str, publisher: Publisher) -> None:
    receiver = Receiver(client_id, f"/{key}/#")
    for n in range(10):
        publisher.send(f"/{key}/d/attrs", str(n).encode())
    wait_for(lambda: len(receiver.got) == 10, what="10 messages")
    receiver.client.ack_many([mid for _, _, mid, _ in receiver.got[:6]])
    receiver.client.ack_many([])
    wait_for(lambda: not receiver.client._out_packet, what="the acks written")
    receiver.close()

    again = Receiver(client_id, f"/{key}/#")  # the same session: the 4 unacknowledged again
    wait_for(lambda: len(again.got) == 4, what="redelivery")
    assert [payload for _, payload, _, _ in again.got] == [b"6", b"7", b"8", b"9"]
    again.client.ack_many([mid for _, _, mid, _ in again.got])
    wait_for(lambda: not again.client._out_packet, what="the acks written")
    again.close()


@pytest.mark.parametrize(
    ("wire", "value", "used"),  # MQTT 5.0 §1.5.5's boundaries; a byte after the number
    [
        (b"\x00", 0, 1),
        (b"\x7f", 127, 1),
        (b"\x80\x01", 128, 2),
        (b"\xff\x7f", 16_383, 2),
        (b"\x80\x80\x01", 16_384, 3),
        (b"\xff\xff\xff\x7f", 268_435_455, 4),
        (b"\xc1\x02\x30", 321, 2),
    ],
)
def test_variable_byte_integers(wire: bytes, value: int, used: int) -> None:
    assert variable_int(b"\x30" + wire, 1, 1 + len(wire)) == (value, 1 + used)


def test_a_variable_byte_integer_cut_short_or_too_long() -> None:
    assert variable_int(b"\x80\x80", 0, 2) is None  # the rest is still on its way
    assert variable_int(b"\xff\x7f", 0, 1) is None
    with pytest.raises(ValueError, match="4 bytes"):
        variable_int(b"\xff\xff\xff\xff\x01", 0, 5)
