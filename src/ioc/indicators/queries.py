"""Reading indicators: a place's value (rolled up from below when not kept there), drill-down,
trend, rank of districts and target attainment with its traffic light."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ioc.core.models import Place
from ioc.core.problems import NotFound
from ioc.indicators import periods
from ioc.indicators.catalogue import attainment, light
from ioc.indicators.models import Indicator, IndicatorTarget, IndicatorValue

COUNTED = ("approved", "computed")


@dataclass(frozen=True)
class Reading:
    place_code: str
    place_name: str
    period: str
    value: float | None
    target: float | None
    attainment: float | None
    light: str | None


def _target(session: Session, indicator: Indicator, period: str) -> IndicatorTarget | None:
    """The target of the period's year, else the latest one set before it (still binding),
    else the next one set after it."""
    year = periods.year_of(period)
    found = {
        t.year: t
        for t in session.scalars(
            select(IndicatorTarget).where(IndicatorTarget.indicator_code == indicator.code)
        )
    }
    earlier = [y for y in found if y <= year]
    later = [y for y in found if y > year]
    if earlier:
        return found[max(earlier)]
    return found[min(later)] if later else None


def values_in(
    session: Session, indicator: Indicator, place: Place, period_keys: list[str]
) -> dict[tuple[str, str], IndicatorValue]:
    """Counted values of the place's subtree for the periods, by (place, period)."""
    rows = session.scalars(
        select(IndicatorValue).where(
            IndicatorValue.indicator_code == indicator.code,
            IndicatorValue.period.in_(period_keys),
            IndicatorValue.status.in_(COUNTED),
            IndicatorValue.place_code.in_(
                select(Place.code).where(
                    or_(Place.path == place.path, Place.path.like(place.path + "/%"))
                )
            ),
        )
    )
    return {(r.place_code, r.period): r for r in rows}


def _rolled(
    indicator: Indicator,
    place: Place,
    period: str,
    found: dict[tuple[str, str], IndicatorValue],
    children: dict[str, list[Place]],
) -> tuple[float | None, float, float]:
    """(value, numerator, denominator): kept at the place, else rolled up from its children."""
    own = found.get((place.code, period))
    if own is not None:
        return own.value, own.numerator or 0.0, own.denominator or 0.0
    parts = [_rolled(indicator, c, period, found, children) for c in children.get(place.code, [])]
    parts = [p for p in parts if p[0] is not None or p[2]]
    if not parts:
        return None, 0.0, 0.0
    if indicator.rollup == "ratio":
        num, den = sum(p[1] for p in parts), sum(p[2] for p in parts)
        return (round(100 * num / den, 2) if den else None), num, den
    values = [p[0] for p in parts if p[0] is not None]
    if indicator.rollup == "mean":
        return round(sum(values) / len(values), 2), 0.0, 0.0
    return round(sum(values), 2), 0.0, 0.0


def _tree(session: Session, place: Place) -> dict[str, list[Place]]:
    kids: dict[str, list[Place]] = {}
    for p in session.scalars(select(Place).where(Place.path.like(place.path + "/%"))):
        kids.setdefault(p.parent_code or "", []).append(p)
    for group in kids.values():
        group.sort(key=lambda p: p.code)
    return kids


def _reading(
    session: Session, indicator: Indicator, place: Place, period: str, value: float | None
) -> Reading:
    target = _target(session, indicator, period)
    attained = attainment(value, target.target if target else None, indicator.higher_is_better)
    return Reading(
        place.code,
        place.name,
        period,
        value,
        target.target if target else None,
        attained,
        light(attained, target.green, target.amber) if target else None,
    )


def place_or_404(session: Session, code: str) -> Place:
    place = session.get(Place, code)
    if place is None:
        raise NotFound(f"no place {code!r}")
    return place


def drill(
    session: Session, indicator: Indicator, place: Place, period: str
) -> tuple[Reading, list[Reading]]:
    """The place's reading and each child's (province → districts → communes)."""
    periods.kind_of(period)
    found = values_in(session, indicator, place, [period])
    kids = _tree(session, place)
    top = _reading(
        session, indicator, place, period, _rolled(indicator, place, period, found, kids)[0]
    )
    below = [
        _reading(session, indicator, c, period, _rolled(indicator, c, period, found, kids)[0])
        for c in kids.get(place.code, [])
    ]
    return top, below


def trend(
    session: Session, indicator: Indicator, place: Place, last: str, count: int
) -> list[Reading]:
    """The place's readings over ``count`` periods ending with ``last``, oldest first."""
    keys = periods.previous(last, count)
    found = values_in(session, indicator, place, keys)
    kids = _tree(session, place)
    return [
        _reading(session, indicator, place, k, _rolled(indicator, place, k, found, kids)[0])
        for k in keys
    ]


def rank(session: Session, indicator: Indicator, province: Place, period: str) -> list[Reading]:
    """The districts best first (by the indicator's direction); those without a value last."""
    _, districts = drill(session, indicator, province, period)
    with_value = [r for r in districts if r.value is not None]
    with_value.sort(key=lambda r: r.value or 0.0, reverse=indicator.higher_is_better)
    return with_value + [r for r in districts if r.value is None]


def province_of(session: Session) -> Place:
    found = session.scalar(select(Place).where(Place.level == "province").order_by(Place.code))
    if found is None:
        raise NotFound("no province loaded: run `ioc places load`")
    return found
