"""Group commit: concurrent writes applied by one thread, one commit for each group.

A device fleet sends many small updates at once, and citizens' reports come in bursts. Each
on its own would pay a session, a transaction and a commit (and on SQLite, a fight for the
single write lock); queued here, the writes waiting at a moment run one after another in one
session and commit together, so a commit and the event flush are shared. A request still hops
to a thread once, and under load the groups grow, so each write gets cheaper as more arrive.

Contract for jobs: one that raises a ``Problem`` has written nothing (the broker's operations
check before they write), so the others in its group still commit. Any other failure, in a
job or in the commit, rolls the group back and each job is run again in a transaction of its
own, so one bad write cannot take the others down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ioc.core.problems import Problem

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_GROUP = 128
IDLE_SECONDS = 5.0  # the thread ends when idle this long; the next write starts another


@dataclass(slots=True)
class _Job(Generic[T]):
    work: Callable[[Session], T]
    actor: str
    request_id: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.done():  # the request went away (cancelled)
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class GroupWriter:
    """Runs write jobs ``work(session)`` in groups on a thread of its own."""

    def __init__(
        self, sessions: sessionmaker[Session], max_group: int = MAX_GROUP, name: str = "writer"
    ) -> None:
        self.sessions = sessions
        self.max_group = max_group
        self.name = name
        self._queue: queue.SimpleQueue[_Job[Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    async def run(self, work: Callable[[Session], T], actor: str, request_id: str | None) -> T:
        """Queue ``work`` and wait for its group to commit; its result or its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(work, actor, request_id, loop, future))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.name)
                self._thread.daemon = True
                self._thread.start()
        return await future

    def run_now(self, work: Callable[[Session], T], actor: str) -> T:
        """Run ``work`` in a transaction of its own on the calling thread (CLI, tests)."""
        with self.sessions() as session:
            session.info["actor"] = actor
            result = work(session)
            session.commit()
            return result

    def _serve(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            while len(group) < self.max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._apply(group)

    def _apply(self, group: list[_Job[Any]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.sessions() as session:
                for job in group:
                    session.info["actor"] = job.actor
                    session.info["request_id"] = job.request_id
                    try:
                        outcomes.append((True, job.work(session)))
                    except Problem as exc:
                        outcomes.append((False, exc))
                session.commit()
        except Exception as exc:
            if len(group) == 1:
                self._settle_later(group, [(False, exc)])
                return
            log.info("a group of %d %s jobs failed; running each alone", len(group), self.name)
            for job in group:
                self._apply([job])
            return
        self._settle_later(group, outcomes)

    @staticmethod
    def _settle_later(group: list[_Job[Any]], outcomes: list[tuple[bool, Any]]) -> None:
        """Hand the outcomes to each waiting loop in one wake-up per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for job, (ok, value) in zip(group, outcomes, strict=True):
            by_loop.setdefault(job.loop, []).append((job.future, ok, value))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                loop.call_soon_threadsafe(_settle_all, settled)
