"""The admission gate: a few holders at once, a short line, and a quick 503 past it."""

from __future__ import annotations

import asyncio

import pytest

from ioc.core.admission import Gate
from ioc.core.problems import ServiceUnavailable


@pytest.mark.anyio
async def test_the_next_in_line_gets_in_when_a_holder_leaves() -> None:
    gate = Gate(slots=1, wait=5.0)
    order: list[str] = []
    leave = asyncio.Event()

    async def first() -> None:
        async with gate.enter():
            order.append("first in")
            await leave.wait()
        order.append("first out")

    async def second() -> None:
        async with gate.enter():
            order.append("second in")

    one = asyncio.create_task(first())
    await asyncio.sleep(0.01)
    two = asyncio.create_task(second())
    await asyncio.sleep(0.01)
    assert order == ["first in"]  # the second waits in line
    leave.set()
    await asyncio.gather(one, two)
    assert order == ["first in", "first out", "second in"]


@pytest.mark.anyio
async def test_a_caller_who_waits_too_long_is_refused_with_retry_after() -> None:
    gate = Gate(slots=2, wait=0.05, what="reports")
    leave = asyncio.Event()

    async def hold() -> None:
        async with gate.enter():
            await leave.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    await asyncio.sleep(0.01)
    with pytest.raises(ServiceUnavailable) as refused:
        async with gate.enter():
            pytest.fail("no slot was free")
    assert refused.value.status == 503
    assert refused.value.headers == {"Retry-After": "1"}
    assert "reports" in refused.value.detail
    leave.set()
    await asyncio.gather(*holders)
    async with gate.enter():  # a refusal took no slot with it
        pass


def test_a_gate_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        Gate(slots=0, wait=1.0)
