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

While a session holds more than one job, ``session.info[GROUPED]`` is true: a job may then
leave its writes for the commit (a ``before_commit`` listener) so the group's writes go in a
few statements; a job run alone (and the reruns) writes at once. A writer made with
``gather`` runs a group's jobs as greenlets: a job that calls ``wait(session, key)`` pauses
until every other job has finished or waits too, then ``gather(session, keys)`` reads for
them all in one statement and the waiting jobs go on, in their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from greenlet import greenlet  # type: ignore[import-untyped]
from sqlalchemy.orm import Session, sessionmaker

from ioc.core.problems import Problem

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_GROUP = 128
GROUPED = "grouped"  # session.info: this session holds several jobs
PARKING = "group_parking"  # session.info: the keys the group's paused jobs wait for
Gather = Callable[[Session, list[Any]], None]
IDLE_SECONDS = 5.0  # the thread ends when idle this long; the next write starts another


@dataclass(slots=True)
class _Job(Generic[T]):
    work: Callable[[Session], T]
    actor: str
    request_id: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


@dataclass(slots=True)
class _Parking:
    writer: greenlet  # the writer's own greenlet: a waiting job switches back to it
    keys: list[Any]


def wait(session: Session, key: Hashable) -> bool:
    """Pause this job until the group's ``gather`` has read ``key`` (with the others' keys);
    False at once when nothing gathers (a job alone, a plain session): read it yourself."""
    parking: _Parking | None = session.info.get(PARKING)
    if parking is None or greenlet.getcurrent() is parking.writer:
        return False
    parking.keys.append(key)
    parking.writer.switch()
    return True


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
        self,
        sessions: sessionmaker[Session],
        max_group: int = MAX_GROUP,
        name: str = "writer",
        gather: Gather | None = None,
    ) -> None:
        self.sessions = sessions
        self.max_group = max_group
        self.name = name
        self.gather = gather
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
                session.info[GROUPED] = len(group) > 1
                if self.gather is not None and len(group) > 1:
                    outcomes = self._run_parked(session, group, self.gather)
                else:
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
            log.info(
                "a group of %d %s jobs failed (%r); running each alone", len(group), self.name, exc
            )
            for job in group:
                self._apply([job])
            return
        self._settle_later(group, outcomes)

    @staticmethod
    def _run_parked(
        session: Session, group: list[_Job[Any]], gather: Gather
    ) -> list[tuple[bool, Any]]:
        """Each job in a greenlet; rounds of: run (or resume) the waiting jobs in order, then
        one ``gather`` for the keys they wait for. Any error but a Problem ends the group."""
        outcomes: list[tuple[bool, Any]] = [(False, None)] * len(group)

        def body(index: int, job: _Job[Any]) -> None:
            try:
                outcomes[index] = (True, job.work(session))
            except Problem as exc:
                outcomes[index] = (False, exc)

        parking = _Parking(greenlet.getcurrent(), [])
        lets = [greenlet(functools.partial(body, i, job)) for i, job in enumerate(group)]
        session.info[PARKING] = parking
        try:
            waiting = list(range(len(group)))
            while waiting:
                parking.keys = []
                paused = []
                for index in waiting:
                    session.info["actor"] = group[index].actor
                    session.info["request_id"] = group[index].request_id
                    lets[index].switch()
                    if not lets[index].dead:
                        paused.append(index)
                waiting = paused
                if waiting:
                    gather(session, parking.keys)
        finally:
            session.info.pop(PARKING, None)
            for let in lets:
                if not let.dead:  # the group failed: end the paused jobs (they wrote nothing)
                    let.throw()
        return outcomes

    @staticmethod
    def _settle_later(group: list[_Job[Any]], outcomes: list[tuple[bool, Any]]) -> None:
        """Hand the outcomes to each waiting loop in one wake-up per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for job, (ok, value) in zip(group, outcomes, strict=True):
            by_loop.setdefault(job.loop, []).append((job.future, ok, value))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                loop.call_soon_threadsafe(_settle_all, settled)
