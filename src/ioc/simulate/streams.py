"""What each simulated device measures at a moment: lights by the sun, air by rush hours, the Đà
river by the dam's daily release and rain, traffic by commuting — with faults at a small rate.

Pure state and arithmetic, no I/O: ``Streams.tick(now)`` returns each device's IoT Agent JSON
payload (short names, ``TimeInstant``) and the cameras' analytics events; the transports send
them. A fixed ``now`` gives a fixed answer for a seed, which is what the tests rely on.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from astral import Observer
from astral.sun import sun

from ioc.context.render import timestamp
from ioc.devices.cameras import NewEvent
from ioc.devices.periods import VIETNAM
from ioc.simulate.fleet import Fleet, Spec

LAMP_MARGIN = dt.timedelta(minutes=10)  # on a little before sunset, off a little after sunrise
NIGHT_DIM = 60  # percent, 23:00–05:00: the city dims its lamps in the dead of night
FAULTS = ("no_power", "silent", "on_in_daylight")
RAIN_EVERY = dt.timedelta(days=3)  # a rain worth a rise on the river, on average


@lru_cache(maxsize=64)
def _sun(lat: float, lon: float, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    times = sun(Observer(latitude=lat, longitude=lon), date=day, tzinfo=VIETNAM)
    return times["sunrise"], times["sunset"]


def dark(at: tuple[float, float], now: dt.datetime) -> bool:
    """Should the city's lamps be lit now (after sunset, before sunrise, with a margin)?"""
    local = now.astimezone(VIETNAM)
    sunrise, sunset = _sun(round(at[0], 2), round(at[1], 2), local.date())
    return not sunrise + LAMP_MARGIN <= now <= sunset - LAMP_MARGIN


def rush(hour: float) -> float:
    """0..1: how much of a commuting peak the hour is (07:30 and 17:30 Vietnam time)."""
    return min(
        1.0, math.exp(-(((hour - 7.5) / 1.1) ** 2)) + math.exp(-(((hour - 17.5) / 1.3) ** 2))
    )


def traffic_share(hour: float) -> float:
    """Traffic relative to the peak: rush hours 1, midday ~0.55, the small hours ~0.05."""
    day = 0.05 + 0.5 * max(0.0, math.sin(math.pi * (hour - 5.5) / 16.5))
    return min(1.0, day + 0.5 * rush(hour))


@dataclass(slots=True)
class Fault:
    kind: str
    until: dt.datetime


@dataclass(slots=True)
class Light:
    spec: Spec
    on: bool = False
    level: int = 100
    energy_kwh: float = 0.0
    override: bool | None = None  # a switch command's on/off, until the schedule next flips
    schedule: tuple[dt.time, dt.time] | None = None  # a schedule command's (on, off)
    auto: bool | None = None
    slot: int = 0  # which tick of ``light_every`` is its heartbeat
    sent: tuple[str, float] | None = None  # (powerState, level) last reported


@dataclass
class Tick:
    """One round: payloads to send, camera events to report, faults that began."""

    at: dt.datetime
    messages: list[tuple[Spec, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[Spec, list[NewEvent]]] = field(default_factory=list)
    faults: list[tuple[str, str]] = field(default_factory=list)  # (device id, kind)


class Streams:
    """The fleet's state over time; ``fault_rate``: faults per device per hour (0.002: a fleet
    of 2,000 has about four an hour, each repaired after 1.5 to 8 hours).

    Sensors report every tick. A light reports when its state changes (dusk, dawn, a command,
    a fault) and otherwise every ``light_every`` ticks as its heartbeat, staggered: as light
    controllers do, and a fifth of the history a 2,000-lamp city would otherwise write.
    """

    def __init__(
        self, fleet: Fleet, seed: int = 1, fault_rate: float = 0.002, light_every: int = 5
    ) -> None:
        self.fleet = fleet
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.light_every = max(1, light_every)
        self.ticks = 0
        self.lights = {
            s.device_id: Light(s, slot=n % self.light_every)
            for n, s in enumerate(fleet.of("light"))
        }
        self.faults: dict[str, Fault] = {}
        self.base = {s.device_id: self.rng.uniform(0.8, 1.25) for s in fleet.devices}
        self.rains: list[tuple[dt.datetime, float]] = []
        self.last: dt.datetime | None = None
        self.centre = fleet.city.centre

    # -- commands ------------------------------------------------------------------------

    def command(self, device_id: str, name: str, value: Any, now: dt.datetime) -> tuple[bool, str]:
        """Apply a light's command; (ok, what the device answers)."""
        light = self.lights.get(device_id)
        if light is None:
            return False, f"ERROR no light {device_id}"
        if name == "switch" and value in ("on", "off"):
            light.override = value == "on"
        elif name == "dim" and isinstance(value, int | float) and 0 <= value <= 100:
            light.level = round(value)
        elif name == "schedule" and isinstance(value, dict):
            try:
                on, off = dt.time.fromisoformat(value["on"]), dt.time.fromisoformat(value["off"])
            except (KeyError, TypeError, ValueError):
                return False, "ERROR schedule takes {on: HH:MM, off: HH:MM}"
            light.schedule = (on, off)
            light.override = None
        else:
            return False, f"ERROR bad {name} value {value!r}"
        self._light_state(light, now)
        shown = f"{value['on']}-{value['off']}" if name == "schedule" else value
        return True, f"{name} {shown}"

    def reading(self, device_id: str, now: dt.datetime) -> dict[str, Any]:
        """A light's payload right now (after a command), its meter not moved."""
        light = self.lights[device_id]
        values = self._light(light, now, 0.0, self.faults.get(device_id))
        light.sent = (values["s"], values["l"])
        values["TimeInstant"] = timestamp(now)
        return values

    # -- one tick --------------------------------------------------------------------------

    def tick(self, now: dt.datetime) -> Tick:
        """Every device's reading at ``now`` (silent ones excepted) and the cameras' events."""
        hours = 0.0 if self.last is None else max(0.0, (now - self.last).total_seconds() / 3600)
        self.last = now
        out = Tick(now)
        self._faults(now, hours, out)
        self._weather(now, hours)
        stamp = timestamp(now)
        local = now.astimezone(VIETNAM)
        hour = local.hour + local.minute / 60 + local.second / 3600
        for spec in self.fleet.devices:
            fault = self.faults.get(spec.device_id)
            if fault is not None and fault.kind == "silent":
                continue
            values = self._values(spec, now, hour, hours, fault)
            if spec.kind == "light" and not self._due(self.lights[spec.device_id], values):
                continue
            values["TimeInstant"] = stamp
            out.messages.append((spec, values))
            if spec.kind == "camera":
                events = self._camera_events(spec, now, hour, hours)
                if events:
                    out.events.append((spec, events))
        self.ticks += 1
        return out

    def _due(self, light: Light, values: dict[str, Any]) -> bool:
        """A light's turn: its state changed since it last reported, or its heartbeat."""
        state = (values["s"], values["l"])
        due = state != light.sent or self.ticks % self.light_every == light.slot
        if due:
            light.sent = state
        return due

    def _faults(self, now: dt.datetime, hours: float, out: Tick) -> None:
        chance = self.fault_rate * hours
        for device_id, fault in list(self.faults.items()):
            if now >= fault.until:
                del self.faults[device_id]  # repaired
        for spec in self.fleet.devices:
            if spec.device_id in self.faults or self.rng.random() >= chance:
                continue
            kind = self.rng.choice(FAULTS) if spec.kind == "light" else "silent"
            self.inject(spec.device_id, kind, now, dt.timedelta(hours=self.rng.uniform(1.5, 8)))
            out.faults.append((spec.device_id, kind))

    def inject(self, device_id: str, kind: str, now: dt.datetime, lasting: dt.timedelta) -> None:
        """Make a device faulty for a while (``no_power`` and ``on_in_daylight``: lights only)."""
        self.faults[device_id] = Fault(kind, now + lasting)

    def _values(
        self, spec: Spec, now: dt.datetime, hour: float, hours: float, fault: Fault | None
    ) -> dict[str, Any]:
        if spec.kind == "light":
            return self._light(self.lights[spec.device_id], now, hours, fault)
        if spec.kind == "air":
            return self._air(spec, now, hour)
        if spec.kind == "water":
            return self._water(spec, now, hour)
        if spec.kind == "traffic":
            return self._traffic(spec, now, hour, hours)
        return {"on": True}

    def _light_state(self, light: Light, now: dt.datetime) -> None:
        if light.schedule is not None:
            t = now.astimezone(VIETNAM).time()
            on, off = light.schedule
            auto = (on <= t or t < off) if on > off else (on <= t < off)
        else:
            auto = dark(self.centre, now)
        if light.auto is not None and auto != light.auto:
            light.override = None  # dusk or dawn ends a manual switch
        light.auto = auto
        light.on = auto if light.override is None else light.override

    def _light(
        self, light: Light, now: dt.datetime, hours: float, fault: Fault | None
    ) -> dict[str, Any]:
        self._light_state(light, now)
        local = now.astimezone(VIETNAM)
        level = min(light.level, NIGHT_DIM) if local.hour >= 23 or local.hour < 5 else light.level
        on = light.on or (fault is not None and fault.kind == "on_in_daylight")
        if fault is not None and fault.kind == "on_in_daylight":
            level = 100
        power = light.spec.rated_w * level / 100 * self.rng.uniform(0.97, 1.03) if on else 0.0
        if fault is not None and fault.kind == "no_power":
            on, power = True, 0.0  # the controller says on; the lamp draws nothing
        light.energy_kwh += power * hours / 1000
        return {
            "s": "on" if on else "off",
            "p": round(power, 1),
            "e": round(light.energy_kwh, 4),
            "l": round(level / 100, 2) if on else 0.0,
            "v": round(self.rng.gauss(224, 3), 1),
        }

    def _air(self, spec: Spec, now: dt.datetime, hour: float) -> dict[str, Any]:
        base = self.base[spec.device_id]
        peak = rush(hour)
        night = 0.35 * max(0.0, math.cos(math.pi * (hour - 3) / 12))  # the night inversion
        sun = max(0.0, math.sin(math.pi * (hour - 7) / 11))
        noise = self.rng.lognormvariate(0, 0.08)
        pm25 = 22 * base * (1 + 0.9 * peak + night) * noise
        temperature = 24 + 5 * math.sin(math.pi * (hour - 9) / 12) + self.rng.gauss(0, 0.3)
        return {
            "pm25": round(pm25, 1),
            "pm10": round(pm25 * self.rng.uniform(1.5, 1.9), 1),
            "no2": round((14 + 38 * peak) * base * noise, 1),
            "o3": round((18 + 70 * sun) * self.rng.lognormvariate(0, 0.06), 1),
            "aqi": aqi(pm25),
            "lvl": level(aqi(pm25)),
            "t": round(temperature, 1),
            "h": round(min(0.98, max(0.35, 0.9 - 0.3 * sun + self.rng.gauss(0, 0.02))), 2),
            "d": timestamp(now),
        }

    def _water(self, spec: Spec, now: dt.datetime, hour: float) -> dict[str, Any]:
        n = int(spec.device_id.rsplit("-", 1)[-1])
        release = 0.45 * math.sin(2 * math.pi * (hour - 10) / 24)  # the dam's daily release
        rise = 0.0
        for start, amp in self.rains:
            h = (now - start).total_seconds() / 3600 - 0.25 * n  # downstream gauges later
            if h > 0:
                rise += amp * min(1.0, h / 3) * math.exp(-max(0.0, h - 3) / 12)
        height = 4.2 - 0.05 * n + release + rise + self.rng.gauss(0, 0.01)
        return {
            "h": round(height, 2),
            "f": round(95 * max(height - 1.0, 0.1) ** 1.6, 0),
            "d": timestamp(now),
        }

    def _weather(self, now: dt.datetime, hours: float) -> None:
        """Now and then a rain upstream; the river rises over hours and falls over a day."""
        if self.rng.random() < hours * 3600 / RAIN_EVERY.total_seconds():
            self.rains.append((now, self.rng.uniform(0.4, 2.2)))
        self.rains = [(t, a) for t, a in self.rains if now - t < dt.timedelta(days=2)]

    def _traffic(self, spec: Spec, now: dt.datetime, hour: float, hours: float) -> dict[str, Any]:
        share = traffic_share(hour)
        minutes = max(hours * 60, 1.0)
        per_minute = 40 * self.base[spec.device_id] * share * self.rng.lognormvariate(0, 0.1)
        occupancy = min(0.95, per_minute / 90)
        return {
            "i": round(per_minute * minutes),
            "o": round(occupancy, 2),
            "v": round(max(8.0, 48 - 45 * occupancy + self.rng.gauss(0, 2)), 1),
            "c": occupancy > 0.45,
            "d": timestamp(now),
        }

    def _camera_events(
        self, spec: Spec, now: dt.datetime, hour: float, hours: float
    ) -> list[NewEvent]:
        share = traffic_share(hour)
        minutes = max(hours * 60, 1.0)
        ident = f"{spec.device_id}-{int(now.timestamp())}"
        events = [
            NewEvent(
                "vehicle_count",
                now,
                count=round(30 * self.base[spec.device_id] * share * minutes),
                confidence=0.9,
                external_id=f"{ident}-count",
            )
        ]
        chances = {"traffic_violation": 0.04 * share, "congestion": 0.03 * rush(hour) ** 2}
        chances["smoke"] = 0.0003
        for kind, chance in chances.items():
            if self.rng.random() < chance * minutes:
                confidence = round(self.rng.uniform(0.6, 0.97), 2)
                events.append(
                    NewEvent(kind, now, confidence=confidence, external_id=f"{ident}-{kind}")
                )
        return events


PM25_AQI = (
    (0, 12.0, 0, 50),
    (12.1, 35.4, 51, 100),
    (35.5, 55.4, 101, 150),
    (55.5, 150.4, 151, 200),
    (150.5, 250.4, 201, 300),
    (250.5, 500.4, 301, 500),
)
LEVELS = ((50, "good"), (100, "moderate"), (150, "unhealthyForSensitiveGroups"),
          (200, "unhealthy"), (300, "veryUnhealthy"))  # fmt: skip


def aqi(pm25: float) -> int:
    """The PM2.5 sub-index (US EPA breakpoints, which Vietnam's VN_AQI follows closely)."""
    c = round(pm25, 1)
    for lo, hi, ilo, ihi in PM25_AQI:
        if c <= hi:
            return round((ihi - ilo) / (hi - lo) * (max(c, lo) - lo) + ilo)
    return 500


def level(index: int) -> str:
    for top, name in LEVELS:
        if index <= top:
            return name
    return "hazardous"
