"""The rules alone: events (and readings) in, decisions out."""

from __future__ import annotations

import pytest

from ioc.alerts.engine import enabled, follows
from ioc.alerts.rules import RULES, Clear, Thresholds, Trigger, evaluate, wants_reading
from ioc.core.config import Settings
from ioc.core.events import Event

LIMITS = Thresholds((5.0, 5.6, 6.2), (150, 200))
GAUGE = "urn:ngsi-ld:WaterObserved:hb-wl-01"
WATER = "https://smartdatamodels.org/dataModel.Environment/WaterObserved"


def reading(type_iri: str, entity_id: str, attrs: list[str], tenant: str = "default") -> Event:
    data = {"tenant": tenant, "id": entity_id, "type": type_iri, "attributes": attrs}
    return Event("entity.updated", data, subject=entity_id)


def gauge(height: float) -> list[Trigger | Clear]:
    event = reading(WATER, GAUGE, [f"{WATER}/height"])
    return evaluate(event, LIMITS, {"id": GAUGE, "name": "Trạm Hòa Bình", "height": height})


@pytest.mark.parametrize(
    ("height", "severity", "alarm"),
    [(5.0, "info", "I"), (5.9, "warning", "II"), (6.2, "critical", "III")],
)
def test_river_alarm_levels(height: float, severity: str, alarm: str) -> None:
    (t,) = gauge(height)
    assert isinstance(t, Trigger)
    assert (t.rule, t.source, t.severity) == ("river-level", GAUGE, severity)
    assert f"báo động {alarm}:" in t.title and f"alarm {alarm}," in t.title_en
    assert t.details["height"] == height


def test_river_clears_only_well_below_level_one() -> None:
    assert gauge(4.95) == []  # within the hysteresis band: neither raise nor clear
    (c,) = gauge(4.85)
    assert isinstance(c, Clear) and c.rule == "river-level" and c.source == GAUGE


def test_air_quality() -> None:
    event = reading(
        "AirQualityObserved", "urn:ngsi-ld:AirQualityObserved:aq-1", ["airQualityIndex"]
    )
    values = {"id": "urn:ngsi-ld:AirQualityObserved:aq-1", "airQualityIndex": 151}
    (t,) = evaluate(event, LIMITS, values)
    assert isinstance(t, Trigger) and t.severity == "warning"
    (t,) = evaluate(event, LIMITS, {**values, "airQualityIndex": 230})
    assert isinstance(t, Trigger) and t.severity == "critical" and "AQI 230" in t.title
    assert evaluate(event, LIMITS, {**values, "airQualityIndex": 150}) == []
    assert isinstance(evaluate(event, LIMITS, {**values, "airQualityIndex": 120})[0], Clear)


def test_only_gauge_and_air_readings_are_read() -> None:
    assert wants_reading(reading(WATER, GAUGE, [f"{WATER}/height"]))
    assert not wants_reading(reading(WATER, GAUGE, [f"{WATER}/flow"]))  # no height written
    assert not wants_reading(reading("Streetlight", "urn:x", ["powerState"]))
    assert not wants_reading(reading(WATER, GAUGE, ["height"], tenant="other"))
    assert evaluate(reading(WATER, GAUGE, ["height"]), LIMITS, None) == []


def test_streetlight_fault_and_clear() -> None:
    data = {"light_id": "urn:ngsi-ld:Streetlight:hb-sl-0001", "kind": "no_power"}
    (t,) = evaluate(Event("streetlight.fault", data, place_code="04801"), LIMITS)
    assert isinstance(t, Trigger)
    assert (t.severity, t.fault, t.place_code) == ("warning", "no_power", "04801")
    (c,) = evaluate(Event("streetlight.fault_cleared", data), LIMITS)
    assert isinstance(c, Clear) and c.fault == "no_power"
    daylight = {**data, "kind": "on_in_daylight"}
    assert evaluate(Event("streetlight.fault", daylight), LIMITS)[0].severity == "info"  # type: ignore[union-attr]


def test_feedback_escalation_and_settling() -> None:
    data = {"id": 42, "service_code": "road", "agency_code": "UBND-X", "escalated_to": "UBND-H"}
    (t,) = evaluate(Event("feedback.escalated", {**data, "level": 1}), LIMITS)
    assert isinstance(t, Trigger) and (t.source, t.severity) == ("feedback:42", "warning")
    assert t.agency_code == "UBND-X"
    (t,) = evaluate(Event("feedback.escalated", {**data, "level": 2}), LIMITS)
    assert isinstance(t, Trigger) and t.severity == "critical"
    (c,) = evaluate(Event("feedback.resolved", data), LIMITS)
    assert isinstance(c, Clear) and c.source == "feedback:42"
    assert evaluate(Event("feedback.noted", data), LIMITS) == []


def test_camera_kinds() -> None:
    cam = {"camera_id": "urn:ngsi-ld:Camera:hb-cam-001", "place_code": "04801"}
    (fire,) = evaluate(Event("camera.smoke", {**cam, "kind": "smoke"}), LIMITS)
    assert isinstance(fire, Trigger) and (fire.rule, fire.severity) == ("camera-fire", "critical")
    (jam,) = evaluate(Event("camera.congestion", {**cam, "kind": "congestion"}), LIMITS)
    assert isinstance(jam, Trigger) and jam.rule == "camera-congestion"
    assert evaluate(Event("camera.vehicle_count", {**cam, "kind": "vehicle_count"}), LIMITS) == []


def test_enabled_rules_come_from_the_settings() -> None:
    assert enabled(Settings()) == frozenset(RULES)
    only = enabled(Settings(alerts_rules="river-level, camera-fire"))
    assert only == {"river-level", "camera-fire"}
    assert not follows(Event("streetlight.fault", {}), only)
    assert follows(Event("camera.fire", {}), only)
    with pytest.raises(ValueError, match="unknown rule 'nope'"):
        enabled(Settings(alerts_rules="nope"))


def test_levels_must_rise() -> None:
    with pytest.raises(ValueError, match="IOC_ALERTS_RIVER_LEVELS"):
        Settings(alerts_river_levels="6,5,7")
    with pytest.raises(ValueError):
        Settings(alerts_aqi_levels="high")
    assert Thresholds.of(Settings(alerts_aqi_levels="100, 180")).aqi_levels == (100, 180)
