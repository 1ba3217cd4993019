"""Shared helpers of the indicators tests: the demo's quarters and districts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from ioc.core.models import Place
from ioc.indicators import periods


def last_quarter() -> str:
    """The latest quarter the demo has reported values for (the one before today's)."""
    first, _ = periods.bounds(periods.current("quarter"))
    return periods.key_of(first - dt.timedelta(days=1), "quarter")


def districts(session: Session) -> list[Place]:
    return list(
        session.scalars(select(Place).where(Place.level == "district").order_by(Place.code))
    )


def province(session: Session) -> Place:
    found = session.scalar(select(Place).where(Place.level == "province"))
    assert found is not None
    return found


@pytest.fixture
def client(app_factory: Callable[..., TestClient]) -> TestClient:
    """A server whose recomputation rounds follow each other closely, so each step shows."""
    return app_factory(indicators_recompute_seconds=0.1)
