"""Group commit: writes waiting together share a transaction; one bad write spoils none."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ioc.core.db import Database
from ioc.core.group_writer import GroupWriter
from ioc.core.models import Meta
from ioc.core.problems import Invalid


def _put(key: str) -> object:
    def work(session: Session) -> str:
        session.add(Meta(key=key, value=str(session.info["actor"])))
        session.flush()
        return key

    return work


def _refuse(session: Session) -> str:
    raise Invalid("value", "refused before writing")


def _stored(database: Database, prefix: str) -> dict[str, str]:
    with database.session() as s:
        rows = s.execute(select(Meta.key, Meta.value).where(Meta.key.like(prefix + "%")))
        return {key: value for key, value in rows}


@pytest.mark.anyio
async def test_writes_waiting_together_commit_together(database: Database) -> None:
    writer = GroupWriter(database.sessionmaker, name="test-writer")
    commits = 0

    def count(session: Session) -> None:
        nonlocal commits
        commits += 1

    event.listen(database.sessionmaker, "after_commit", count)
    hold = threading.Event()
    try:
        # The first job holds the thread, so the next twenty are waiting when it ends.
        def held(session: Session) -> str:
            assert hold.wait(10)
            return "held"

        first = asyncio.ensure_future(writer.run(held, "tester", None))
        await asyncio.sleep(0.05)
        rest = [
            asyncio.ensure_future(writer.run(_put(f"g.{i:02}"), "tester", "r1")) for i in range(20)
        ]
        await asyncio.sleep(0.05)
        hold.set()
        assert await first == "held"
        assert await asyncio.gather(*rest) == [f"g.{i:02}" for i in range(20)]
    finally:
        event.remove(database.sessionmaker, "after_commit", count)
    assert len(_stored(database, "g.")) == 20
    assert commits <= 3  # the held job's group, then the twenty in one or two groups


@pytest.mark.anyio
async def test_a_refused_write_leaves_the_rest_of_its_group(database: Database) -> None:
    writer = GroupWriter(database.sessionmaker, name="test-writer")
    jobs = [writer.run(_put("ok.1"), "a", None), writer.run(_refuse, "b", None)]
    jobs.append(writer.run(_put("ok.2"), "c", None))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert results[0] == "ok.1" and results[2] == "ok.2"
    assert isinstance(results[1], Invalid)
    assert _stored(database, "ok.") == {"ok.1": "a", "ok.2": "c"}  # each job's own actor


@pytest.mark.anyio
async def test_a_failing_write_is_retried_alone_and_fails_alone(database: Database) -> None:
    """A database error rolls the group back; the others are run again and commit."""
    writer = GroupWriter(database.sessionmaker, name="test-writer")
    with database.session() as s:
        s.add(Meta(key="dup.taken", value="x"))
        s.commit()
    jobs = [writer.run(_put(key), "t", None) for key in ("dup.a", "dup.taken", "dup.b")]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert results[0] == "dup.a" and results[2] == "dup.b"
    assert isinstance(results[1], Exception) and not isinstance(results[1], Invalid)
    assert _stored(database, "dup.") == {"dup.a": "t", "dup.taken": "x", "dup.b": "t"}
