"""One bridge per client id: a second one waits instead of fighting over the MQTT session."""

from __future__ import annotations

import asyncio

from ioc.core.db import Database
from ioc.ingest.lock import ClientLock, run_exclusive


def test_one_holder_per_client_id(database: Database, db_url: str) -> None:
    other = Database(db_url)  # another process's view of the same database
    try:
        first, second = ClientLock(database, "ioc-a"), ClientLock(other, "ioc-a")
        assert first.acquire()
        assert not second.acquire()
        third = ClientLock(other, "ioc-b")
        assert third.acquire()  # another id is another bridge
        third.release()
        first.release()
        assert second.acquire()
        second.release()
    finally:
        other.dispose()


def test_run_exclusive_waits_for_the_holder(database: Database) -> None:
    import ioc.ingest.lock as lock_module

    lock_module.LOCK_RETRY_SECONDS = 0.05
    holder = ClientLock(database, "ioc-c")
    assert holder.acquire()
    ran: list[str] = []

    async def bridge() -> None:
        ran.append("bridge")

    async def scenario() -> None:
        task = asyncio.create_task(run_exclusive(database, "ioc-c", bridge))
        await asyncio.sleep(0.3)
        assert ran == []  # still waiting for the lock
        await asyncio.to_thread(holder.release)
        await asyncio.wait_for(task, 5)

    try:
        asyncio.run(scenario())
    finally:
        lock_module.LOCK_RETRY_SECONDS = 5.0
    assert ran == ["bridge"]
