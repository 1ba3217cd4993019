"""The alert rules, in one place: which events they follow and what they raise or clear.

Rules are pure: an event (and, for NGSI-LD readings, the entity's values in keyValues) in,
``Trigger``s and ``Clear``s out. ``ioc.alerts.service`` turns them into alerts; thresholds
come from the settings (``IOC_ALERTS_RIVER_LEVELS``, ``IOC_ALERTS_AQI_LEVELS``).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from ioc.core.config import Settings
from ioc.core.events import Event

# A reading must fall this far back under the lowest threshold to clear its alert, so that a
# value wavering around the line does not open and close alerts on every reading.
RIVER_HYSTERESIS_M = 0.1
AQI_HYSTERESIS = 10
ROMAN = ("I", "II", "III")
RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    name_en: str
    follows: tuple[str, ...]  # event patterns
    raises: str  # what makes it raise, in English
    clears: str  # what resolves it on its own
    stale_minutes: float | None = None  # resolved when not triggered again for this long


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "river-level",
            "Mực nước sông vượt báo động",
            "River level above alarm",
            ("entity.created", "entity.updated"),
            "a WaterObserved height above alarm level I (info), II (warning), III (critical)",
            f"the height back {RIVER_HYSTERESIS_M} m under level I",
        ),
        Rule(
            "air-quality",
            "Chất lượng không khí xấu",
            "Poor air quality",
            ("entity.created", "entity.updated"),
            "an AirQualityObserved index above the first level (warning), the second (critical)",
            f"the index back {AQI_HYSTERESIS} under the first level",
        ),
        Rule(
            "streetlight-fault",
            "Đèn đường lỗi",
            "Streetlight fault",
            ("streetlight.fault", "streetlight.fault_cleared"),
            "streetlight.fault: no power or no heartbeat (warning), lit in daylight (info)",
            "streetlight.fault_cleared for every fault the light had",
        ),
        Rule(
            "feedback-overdue",
            "Phản ánh quá hạn bị chuyển cấp trên",
            "Overdue feedback escalated",
            (
                "feedback.escalated",
                "feedback.resolved",
                "feedback.closed",
                "feedback.rejected",
                "feedback.duplicate",
            ),
            "feedback.escalated: first escalation (warning), second or later (critical)",
            "the request resolved, closed, rejected or marked duplicate",
        ),  # fmt: skip
        Rule(
            "camera-fire",
            "Camera phát hiện cháy, khói",
            "Fire or smoke on camera",
            ("camera.fire", "camera.smoke"),
            "camera.fire or camera.smoke (critical)",
            "never: an operator resolves it",
        ),
        Rule(
            "camera-congestion",
            "Ùn tắc giao thông",
            "Traffic congestion",
            ("camera.congestion",),
            "camera.congestion (warning)",
            "no congestion reported by the camera for 60 minutes",
            stale_minutes=60,
        ),
    )
}
PATTERNS = ("entity.>", "streetlight.>", "feedback.>", "camera.>")  # what the engine follows
READ_TYPES = {"WaterObserved": "height", "AirQualityObserved": "airQualityIndex"}
FAULTS = {
    "no_power": ("không tiêu thụ điện khi bật", "on but drawing no power", "warning"),
    "no_heartbeat": ("mất kết nối", "silent (no heartbeat)", "warning"),
    "on_in_daylight": ("sáng ban ngày", "lit in daylight", "info"),
}
CLOSING_FEEDBACK = ("resolved", "closed", "rejected", "duplicate")


@dataclass(frozen=True, slots=True)
class Thresholds:
    river_levels: tuple[float, float, float] = (5.0, 5.6, 6.2)
    aqi_levels: tuple[float, float] = (150.0, 200.0)

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        river = settings.alerts_river_thresholds
        aqi = settings.alerts_aqi_thresholds
        return cls((river[0], river[1], river[2]), (aqi[0], aqi[1]))


@dataclass(frozen=True, slots=True)
class Trigger:
    """Raise an alert for (rule, source), or bump the active one."""

    rule: str
    source: str
    source_type: str
    severity: str
    title: str
    title_en: str
    at: dt.datetime
    place_code: str | None = None
    agency_code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    fault: str | None = None  # streetlight: the fault kind this trigger adds


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition of (rule, source) is over: resolve its active alert."""

    rule: str
    source: str
    note: str
    at: dt.datetime
    fault: str | None = None  # streetlight: resolve only once no fault kind is left


Decision = Trigger | Clear


def local_type(type_iri: str) -> str:
    return _local_type(str(type_iri))


@functools.lru_cache(maxsize=4096)  # a few dozen types and attributes, thousands of events
def _local_type(text: str) -> str:
    return text.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def wants_reading(event: Event) -> bool:
    """An NGSI-LD write to a gauge or an air station: its values must be read to judge it."""
    if event.type not in ("entity.created", "entity.updated"):
        return False
    if event.data.get("tenant", "default") != "default":
        return False
    wanted = READ_TYPES.get(local_type(event.data.get("type", "")))
    return wanted is not None and any(
        local_type(a) == wanted for a in event.data.get("attributes", ())
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _name(values: dict[str, Any], entity_id: str) -> str:
    name = values.get("name")
    return str(name) if name else entity_id.rsplit(":", 1)[-1]


def river(event: Event, values: dict[str, Any], limits: Thresholds) -> list[Decision]:
    height = _number(values.get("height"))
    if height is None:
        return []
    source, name = event.subject or values["id"], _name(values, values["id"])
    reached = sum(1 for level in limits.river_levels if height >= level)
    if reached:
        severity = ("info", "warning", "critical")[reached - 1]
        roman = ROMAN[reached - 1]
        return [
            Trigger(
                "river-level",
                source,
                "entity",
                severity,
                f"Mực nước {name} vượt báo động {roman}: {height:.2f} m",
                f"{name}: river level above alarm {roman}, {height:.2f} m",
                event.time,
                details={"height": height, "alarm": reached, "levels": list(limits.river_levels)},
            )
        ]
    if height < limits.river_levels[0] - RIVER_HYSTERESIS_M:
        return [Clear("river-level", source, f"mực nước về {height:.2f} m", event.time)]
    return []


def air(event: Event, values: dict[str, Any], limits: Thresholds) -> list[Decision]:
    index = _number(values.get("airQualityIndex"))
    if index is None:
        return []
    source, name = event.subject or values["id"], _name(values, values["id"])
    first, second = limits.aqi_levels
    if index > first:
        critical = index > second
        return [
            Trigger(
                "air-quality",
                source,
                "entity",
                "critical" if critical else "warning",
                f"AQI {index:.0f} tại {name} ({'rất xấu' if critical else 'xấu'})",
                f"AQI {index:.0f} at {name} ({'very unhealthy' if critical else 'unhealthy'})",
                event.time,
                details={"aqi": index, "level": values.get("airQualityLevel")},
            )
        ]
    if index <= first - AQI_HYSTERESIS:
        return [Clear("air-quality", source, f"AQI về {index:.0f}", event.time)]
    return []


def streetlight(event: Event) -> list[Decision]:
    light, kind = event.data.get("light_id"), event.data.get("kind")
    if not isinstance(light, str) or kind not in FAULTS:
        return []
    if event.type == "streetlight.fault_cleared":
        return [Clear("streetlight-fault", light, f"hết lỗi {kind}", event.time, fault=kind)]
    vi, en, severity = FAULTS[kind]
    short = light.rsplit(":", 1)[-1]
    return [
        Trigger(
            "streetlight-fault",
            light,
            "entity",
            severity,
            f"Đèn đường {short} {vi}",
            f"Streetlight {short} {en}",
            event.time,
            place_code=event.place_code or event.data.get("place_code"),
            details={"detail": event.data.get("detail")},
            fault=kind,
        )
    ]


def feedback(event: Event) -> list[Decision]:
    request = event.data.get("id")
    if not isinstance(request, int):
        return []
    source = f"feedback:{request}"
    status = event.type.removeprefix("feedback.")
    if status in CLOSING_FEEDBACK:
        return [Clear("feedback-overdue", source, f"phản ánh đã {status}", event.time)]
    if event.type != "feedback.escalated":
        return []
    level = int(event.data.get("level") or 1)
    above = event.data.get("escalated_to") or "?"
    return [
        Trigger(
            "feedback-overdue",
            source,
            "feedback",
            "critical" if level >= 2 else "warning",
            f"Phản ánh #{request} quá hạn, chuyển {above} đôn đốc (lần {level})",
            f"Feedback #{request} overdue, escalated to {above} (time {level})",
            event.time,
            place_code=event.place_code,
            agency_code=event.data.get("agency_code"),
            details={"service_code": event.data.get("service_code"), "level": level},
        )
    ]


def camera(event: Event) -> list[Decision]:
    cam = event.data.get("camera_id")
    kind = event.data.get("kind")
    if not isinstance(cam, str):
        return []
    short = cam.rsplit(":", 1)[-1]
    place = event.data.get("place_code") or event.place_code
    agency = event.data.get("agency_code")
    details = {
        "kind": kind,
        "confidence": event.data.get("confidence"),
        "snapshot_url": event.data.get("snapshot_url"),
    }
    if kind in ("fire", "smoke"):
        vi = "cháy" if kind == "fire" else "khói"
        rule, severity = "camera-fire", "critical"
        title, title_en = f"Camera {short} phát hiện {vi}", f"Camera {short} detected {kind}"
    elif kind == "congestion":
        rule, severity = "camera-congestion", "warning"
        title = f"Ùn tắc giao thông tại camera {short}"
        title_en = f"Traffic congestion at camera {short}"
    else:
        return []
    return [
        Trigger(
            rule,
            cam,
            "entity",
            severity,
            title,
            title_en,
            event.time,
            place_code=place if isinstance(place, str) else None,
            agency_code=agency if isinstance(agency, str) else None,
            details=details,
        )
    ]


def evaluate(
    event: Event, limits: Thresholds, values: dict[str, Any] | None = None
) -> list[Decision]:
    """What the rules make of one event; ``values`` is the entity read for ``wants_reading``."""
    family = event.type.partition(".")[0]
    if family == "entity":
        if values is None:
            return []
        kind = local_type(event.data.get("type", ""))
        if kind == "WaterObserved":
            return river(event, values, limits)
        if kind == "AirQualityObserved":
            return air(event, values, limits)
        return []
    if family == "streetlight":
        return streetlight(event)
    if family == "feedback":
        return feedback(event)
    if family == "camera":
        return camera(event)
    return []
