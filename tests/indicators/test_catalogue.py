"""Targets and traffic lights: attainment by direction, thresholds, targets by year."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ioc.core.db import Database
from ioc.indicators import catalogue, queries
from ioc.indicators.catalogue import attainment, light
from ioc.indicators.models import Indicator
from tests.indicators.conftest import last_quarter, province


def test_attainment_follows_the_direction() -> None:
    assert attainment(95.8, 100.0, True) == 95.8
    assert attainment(50.0, 40.0, False) == 80.0  # lower is better: 40 of 50
    assert attainment(None, 100.0, True) is None
    assert attainment(10.0, None, True) is None


@pytest.mark.parametrize(
    ("attained", "expected"),
    [(100.0, "green"), (99.9, "amber"), (90.0, "amber"), (89.9, "red"), (None, None)],
)
def test_light_thresholds(attained: float | None, expected: str | None) -> None:
    assert light(attained, 100.0, 90.0) == expected


def test_resolution_8_targets_and_the_year_in_force(demo_db: Database) -> None:
    with demo_db.session() as session:
        kts = session.get(Indicator, "CDS-KTS")
        assert kts is not None
        assert queries._target(session, kts, "2025-Q3").target == 20.0  # type: ignore[union-attr]
        assert queries._target(session, kts, "2027-Q1").target == 20.0  # type: ignore[union-attr]
        assert queries._target(session, kts, "2030-Q4").target == 30.0  # type: ignore[union-attr]
        assert queries._target(session, kts, "2024-Q4").target == 20.0  # type: ignore[union-attr]
        with pytest.raises(Exception, match="amber"):
            catalogue.set_target(session, "CDS-KTS", 2026, 25.0, green=80, amber=90)


def test_admin_sets_a_target_and_the_light_follows(
    client: TestClient, auth: Callable[..., dict[str, str]], demo_db: Database
) -> None:
    period = last_quarter()
    year = int(period[:4])
    with demo_db.session() as session:
        place = province(session).code
    url = f"/api/v1/indicators/VT-BTS/values?period={period}&place={place}"
    before = client.get(url, headers=auth("lanhdao")).json()["place"]
    value = before["value"]
    assert value is not None
    # A target just under the value: green; then one the value only reaches at 95 %: amber.
    denied = client.put(
        f"/api/v1/indicators/VT-BTS/targets/{year}",
        json={"target": value},
        headers=auth("sotttt"),
    )
    assert denied.status_code == 403
    for target, expected in ((value - 0.5, "green"), (value / 0.95, "amber"), (value * 2, "red")):
        put = client.put(
            f"/api/v1/indicators/VT-BTS/targets/{year}",
            json={"target": target, "green": 100, "amber": 90},
            headers=auth("admin"),
        )
        assert put.status_code == 200, put.text
        assert put.json()["targets"][str(year)] == target
        got = client.get(url, headers=auth("lanhdao")).json()["place"]
        assert got["light"] == expected, (target, got)
