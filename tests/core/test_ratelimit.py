"""The in-memory sliding-window limiter: exact counts per window, Retry-After, bounded memory."""

from __future__ import annotations

import threading

import pytest

from ioc.core.problems import Problem
from ioc.core.ratelimit import RateLimited, SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_at_most_limit_hits_in_any_window() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a") == pytest.approx(60.0)
    assert limiter.hit("b") == 0.0  # keys are counted apart
    clock.now += 20
    assert limiter.hit("a") == pytest.approx(40.0)
    clock.now += 40  # the first three hits leave the window together
    assert limiter.hit("a") == 0.0


def test_refused_hits_are_not_counted() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 10, clock=clock)
    limiter.hit("a")
    for _ in range(5):
        clock.now += 1
        assert limiter.hit("a") > 0
    clock.now += 5
    assert limiter.hit("a") == 0.0


def test_check_raises_429_with_retry_after() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(2, 60, clock=clock)
    limiter.check("1.2.3.4", "address")
    clock.now += 0.5
    limiter.check("1.2.3.4", "address")
    with pytest.raises(RateLimited) as caught:
        limiter.check("1.2.3.4", "address")
    error = caught.value
    assert isinstance(error, Problem) and error.status == 429
    assert error.retry_after == 60 and error.headers == {"Retry-After": "60"}
    assert "address" in error.detail and "2 per 60 seconds" in error.detail
    assert error.to_dict()["retry_after"] == 60


def test_idle_keys_are_forgotten_when_full() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 10, max_keys=3, clock=clock)
    for key in "abc":
        limiter.hit(key)
    clock.now += 11
    limiter.hit("d")
    assert set(limiter._hits) == {"d"}
    for key in "ef":
        limiter.hit(key)
    limiter.hit("g")  # full of active keys: the oldest tracked one goes
    assert len(limiter._hits) == 3 and "d" not in limiter._hits


def test_threads_never_exceed_the_limit() -> None:
    limiter = SlidingWindowLimiter(50, 60)
    allowed: list[bool] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(20):
            ok = limiter.hit("shared") == 0.0
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 50


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0)
    with pytest.raises(ValueError):
        SlidingWindowLimiter(1, 0)
