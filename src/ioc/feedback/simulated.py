"""Simulated citizens: where they report from, about what, through which channel, in what words.

Shared by the demo's six months of history and the live simulator, so both look alike.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ioc.core.models import Place
from ioc.core.text import fold
from ioc.core.workdays import VIETNAM_TZ
from ioc.feedback import demo_text as words
from ioc.feedback.service import Submission

# Population of Hòa Bình's districts (2019 census, rounded; Kỳ Sơn counted in the city).
DISTRICT_POPULATION = {
    "148": 135_000,
    "150": 55_000,
    "152": 100_000,
    "153": 120_000,
    "154": 47_000,
    "155": 85_000,
    "156": 56_000,
    "157": 143_000,
    "158": 67_000,
    "159": 56_000,
}
# Residents per unit relative to a rural commune, and how much more often they report.
RESIDENTS = {"ward": 2.5, "town": 1.8, "rural": 1.0}
REPORTING = {"ward": 2.0, "town": 1.4, "rural": 1.0}

# Share of each category in a typical month, before the place and season adjust it.
CATEGORY_SHARES = {
    "road": 12.0,
    "streetlight": 7.0,
    "waste": 12.0,
    "pollution": 6.0,
    "flood": 3.0,
    "construction": 6.0,
    "land": 8.0,
    "traffic": 5.0,
    "security": 5.0,
    "power": 6.0,
    "water": 6.0,
    "tree": 3.0,
    "health": 4.0,
    "education": 3.0,
    "social": 4.0,
    "admin": 5.0,
    "telecom": 3.0,
    "other": 2.0,
}
URBAN_FACTORS: dict[str, dict[str, float]] = {
    "ward": {
        "streetlight": 2.5,
        "waste": 1.3,
        "construction": 1.5,
        "pollution": 1.3,
        "tree": 2.0,
        "traffic": 1.4,
        "land": 0.7,
        "telecom": 0.6,
        "flood": 0.6,
    },
    "town": {"streetlight": 1.4, "construction": 1.2, "tree": 1.2},
    "rural": {
        "streetlight": 0.4,
        "road": 1.3,
        "land": 1.3,
        "flood": 1.5,
        "power": 1.2,
        "telecom": 1.4,
        "tree": 0.5,
        "social": 1.3,
        "traffic": 0.8,
    },
}
RAINY = (6, 7, 8, 9)  # June to September: floods, landslides, fallen trees, broken roads
SEASON_FACTORS: dict[str, dict[int, float]] = {
    "flood": {5: 1.5, 6: 4.0, 7: 5.0, 8: 5.0, 9: 4.0, 10: 1.5, 12: 0.3, 1: 0.3, 2: 0.3},
    "road": {6: 1.4, 7: 1.5, 8: 1.5, 9: 1.4},
    "tree": {6: 1.6, 7: 1.8, 8: 1.8, 9: 1.5},
    "power": {5: 1.2, 6: 1.4, 7: 1.4, 8: 1.3},
    "water": {4: 1.3, 5: 1.3, 6: 1.2},
    "pollution": {6: 1.3, 10: 1.3, 12: 1.2, 1: 1.2},
    "education": {8: 1.8, 9: 1.8},
    "social": {1: 1.5, 2: 1.3},
    "health": {6: 1.2, 7: 1.3, 8: 1.2},
}
# Channels and their shares: calls, messages and petitions carry most of it.
CHANNEL_SHARES = {
    "hotline": 32.0,
    "zalo": 20.0,
    "app": 14.0,
    "petition": 10.0,
    "web": 9.0,
    "sms": 8.0,
    "open311": 5.0,
    "email": 2.0,
}
# Chance that a report through the channel carries a point on the map.
LOCATED = {
    "app": 1.0,
    "open311": 1.0,
    "zalo": 0.8,
    "web": 0.7,
    "hotline": 0.6,
    "petition": 0.5,
    "sms": 0.4,
    "email": 0.4,
}
# Relative weight of each local hour: people write in the morning, the afternoon, the evening.
HOURS_ANY = (1, 0.5, 0.3, 0.3, 0.5, 1.5, 4, 7, 9, 9, 8, 6, 4, 5, 7, 8, 7, 6, 6, 7, 7, 5, 3, 2)
HOURS_CALLS = (
    0.2,
    0.1,
    0.1,
    0.1,
    0.2,
    0.8,
    3,
    8,
    10,
    10,
    9,
    6,
    3,
    5,
    9,
    9,
    8,
    5,
    3,
    3,
    2,
    1,
    0.5,
    0.3,
)
HOURS_OFFICE = (0, 0, 0, 0, 0, 0, 0, 6, 10, 10, 8, 3, 2, 8, 9, 8, 0, 0, 0, 0, 0, 0, 0, 0)
HOURS = {"hotline": HOURS_CALLS, "petition": HOURS_OFFICE}


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune or ward as the simulation sees it: where it is and how many people report."""

    code: str
    kind: str  # Phường, Thị trấn, Xã
    name: str
    district_code: str
    district: str  # "huyện Đà Bắc", "thành phố Hòa Bình"
    lat: float
    lon: float
    box: tuple[float, float, float, float]  # south, north, west, east
    urban: str  # ward, town, rural
    weight: float

    @property
    def label(self) -> str:
        """'xã Tú Lý', as an address writes it."""
        return f"{self.kind.lower()} {self.name}"


def _urban(kind: str) -> str:
    return {"Phường": "ward", "Thị trấn": "town"}.get(kind, "rural")


def load_communes(session: Session, province_code: str) -> list[Commune]:
    """The province's communes with coordinates, weighted by the people likely to report."""
    district = aliased(Place)
    rows = session.execute(
        select(Place, district)
        .join(district, Place.parent_code == district.code)
        .where(Place.level == "commune", Place.path.like(f"{province_code}/%"))
        .order_by(Place.code)
    ).all()
    located = [
        (c, d)
        for c, d in rows
        if None not in (c.lat, c.lon, c.min_lat, c.max_lat, c.min_lon, c.max_lon)
    ]
    units: dict[str, float] = {}
    for c, d in located:
        units[d.code] = units.get(d.code, 0.0) + RESIDENTS[_urban(c.kind)]
    fallback = sum(DISTRICT_POPULATION.values()) / len(DISTRICT_POPULATION)
    out = []
    for c, d in located:
        urban = _urban(c.kind)
        people = DISTRICT_POPULATION.get(d.code, fallback) * RESIDENTS[urban] / units[d.code]
        assert c.lat is not None and c.lon is not None
        out.append(
            Commune(
                code=c.code,
                kind=c.kind,
                name=c.short_name,
                district_code=d.code,
                district=f"{d.kind.lower()} {d.short_name}",
                lat=c.lat,
                lon=c.lon,
                box=(c.min_lat, c.max_lat, c.min_lon, c.max_lon),  # type: ignore[arg-type]
                urban=urban,
                weight=people * REPORTING[urban],
            )
        )
    return out


@dataclass
class Draft:
    """One simulated report before it is stored: what the citizen sent."""

    service_code: str
    channel: str
    commune: Commune
    description: str
    attributes: dict[str, Any]
    lat: float | None
    lon: float | None
    address: str
    contact: dict[str, str] = field(default_factory=dict)

    def submission(self, requested_at: dt.datetime | None = None) -> Submission:
        """The report as the reception service takes it."""
        return Submission(
            service_code=self.service_code,
            description=self.description,
            channel=self.channel,
            lat=self.lat,
            lon=self.lon,
            address=self.address,
            attributes=dict(self.attributes),
            requested_at=requested_at,
            first_name=self.contact.get("first_name"),
            last_name=self.contact.get("last_name"),
            email=self.contact.get("email"),
            phone=self.contact.get("phone"),
            device_id=self.contact.get("device_id"),
            account_id=self.contact.get("account_id"),
        )


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: Sequence[Any], cumulative: Sequence[float]) -> Any:
    return items[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


class World:
    """The province's people as a source of reports, with every weight computed once."""

    def __init__(self, communes: Sequence[Commune], service_codes: Sequence[str]) -> None:
        if not communes:
            raise ValueError("no communes with coordinates: load the province's places first")
        self.communes = list(communes)
        self._commune_cum = _cumulative([c.weight for c in self.communes])
        self.categories = [c for c in CATEGORY_SHARES if c in set(service_codes)]
        self._category_cum: dict[tuple[str, int], list[float]] = {}
        for urban in RESIDENTS:
            for month in range(1, 13):
                self._category_cum[urban, month] = _cumulative(
                    [self.category_weight(code, urban, month) for code in self.categories]
                )
        channels = list(CHANNEL_SHARES)
        self.channels = channels
        self._channel_cum = {
            True: _cumulative([CHANNEL_SHARES[c] for c in channels]),
            False: _cumulative([0.0 if c == "petition" else CHANNEL_SHARES[c] for c in channels]),
        }
        self._hour_cum = {c: _cumulative(HOURS.get(c, HOURS_ANY)) for c in channels}
        self._family = [name for name, _ in words.FAMILY_NAMES]
        self._family_cum = _cumulative([w for _, w in words.FAMILY_NAMES])

    @staticmethod
    def category_weight(code: str, urban: str, month: int) -> float:
        """How often ``code`` is reported in such a place in that month, relative to others."""
        return (
            CATEGORY_SHARES[code]
            * URBAN_FACTORS[urban].get(code, 1.0)
            * SEASON_FACTORS.get(code, {}).get(month, 1.0)
        )

    def season(self, month: int) -> float:
        """How busy the month is overall compared with a dry month (the rainy season is busier)."""
        total = sum(
            c.weight * self.category_weight(code, c.urban, month)
            for c in self.communes
            for code in self.categories
        )
        base = sum(
            c.weight * CATEGORY_SHARES[code] * URBAN_FACTORS[c.urban].get(code, 1.0)
            for c in self.communes
            for code in self.categories
        )
        return total / base if base else 1.0

    def commune(self, rng: random.Random) -> Commune:
        commune: Commune = _pick(rng, self.communes, self._commune_cum)
        return commune

    def category(self, rng: random.Random, commune: Commune, month: int) -> str:
        code: str = _pick(rng, self.categories, self._category_cum[commune.urban, month])
        return code

    def channel(self, rng: random.Random, working_day: bool) -> str:
        channel: str = _pick(rng, self.channels, self._channel_cum[working_day])
        return channel

    def moment(self, rng: random.Random, day: dt.date, channel: str) -> dt.datetime:
        """A local time of ``day`` when a report through ``channel`` plausibly arrives, in UTC."""
        hour: int = _pick(rng, range(24), self._hour_cum[channel])
        local = dt.datetime.combine(day, dt.time(hour), tzinfo=VIETNAM_TZ)
        local += dt.timedelta(seconds=rng.randrange(3600))
        return local.astimezone(dt.UTC)

    def draft(self, rng: random.Random, commune: Commune, category: str, channel: str) -> Draft:
        """The report a citizen of ``commune`` sends about ``category`` through ``channel``."""
        text, attributes = rng.choice(words.REPORTS[category])
        hamlet = self._hamlet(rng, commune)
        road, road_type = self._road(rng, commune)
        body = text.format(
            where=f"{hamlet}, {commune.label}",
            hamlet=hamlet,
            commune=commune.label,
            road=road,
            since=rng.choice(words.SINCE),
            n=rng.randint(3, 12),
            proc=rng.choice(words.PROCEDURES),
        )
        intro = rng.choice(words.INTROS.get(channel, ("",)))
        description = f"{intro}{body}{rng.choice(words.OUTROS)}"
        attributes = {k: road_type if v == "*" else v for k, v in attributes.items()}
        lat = lon = None
        if rng.random() < LOCATED[channel]:
            lat, lon = self.point(rng, commune)
        return Draft(
            service_code=category,
            channel=channel,
            commune=commune,
            description=description,
            attributes=attributes,
            lat=lat,
            lon=lon,
            address=f"{hamlet}, {commune.label}, {commune.district}",
            contact=self._contact(rng, channel),
        )

    @staticmethod
    def point(rng: random.Random, commune: Commune) -> tuple[float, float]:
        """A point inside the commune's box, near its centroid."""
        south, north, west, east = commune.box
        lat = min(max(rng.gauss(commune.lat, (north - south) / 10), south), north)
        lon = min(max(rng.gauss(commune.lon, (east - west) / 10), west), east)
        return round(lat, 6), round(lon, 6)

    @staticmethod
    def _hamlet(rng: random.Random, commune: Commune) -> str:
        if commune.urban == "ward":
            return f"tổ {rng.randint(1, 20)}"
        if commune.urban == "town":
            return f"tiểu khu {rng.randint(1, 10)}"
        return f"xóm {rng.choice(words.HAMLETS)}"

    @staticmethod
    def _road(rng: random.Random, commune: Commune) -> tuple[str, str]:
        if commune.urban == "ward" and commune.district_code == "148" and rng.random() < 0.7:
            return rng.choice(words.CITY_STREETS), "urban"
        roads = words.DISTRICT_ROADS.get(commune.district_code, ())
        if roads and rng.random() < 0.5:
            return rng.choice(roads)
        return rng.choice(words.LOCAL_ROADS)

    def _contact(self, rng: random.Random, channel: str) -> dict[str, str]:
        """The contact details each channel brings: a phone, an account, a device, a name."""
        out: dict[str, str] = {}
        family: str = _pick(rng, self._family, self._family_cum)
        given = rng.choice(words.GIVEN_MEN if rng.random() < 0.55 else words.GIVEN_WOMEN)
        named = {"petition": 1.0, "email": 0.8, "web": 0.7, "hotline": 0.6}.get(channel, 0.2)
        if rng.random() < named:
            out["first_name"], out["last_name"] = given, family
        phoned = {"sms": 1.0, "hotline": 0.95, "zalo": 0.6, "petition": 0.6}.get(channel, 0.1)
        if rng.random() < phoned:
            out["phone"] = f"0{rng.choice('3789')}{rng.randrange(10**8):08d}"
        if channel in ("email", "web") and rng.random() < (1.0 if channel == "email" else 0.5):
            handle = fold(f"{given}{family}").replace(" ", "")
            out["email"] = f"{handle}{rng.randint(1, 999)}@example.com"
        if channel == "zalo":
            out["account_id"] = f"zalo:{rng.randrange(10**17, 10**18)}"
        elif channel == "app":
            out["account_id"] = f"app:{rng.randrange(10**6, 10**7)}"
        elif channel == "open311":
            out["device_id"] = f"{rng.getrandbits(64):016x}"
        return out
