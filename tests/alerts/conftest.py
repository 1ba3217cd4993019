"""Helpers of the alerts tests: rule decisions at chosen times, a demo place to raise them in."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.alerts.rules import Clear, Trigger
from ioc.core.db import utcnow
from ioc.core.models import Place

LIGHT = "urn:ngsi-ld:Streetlight:hb-sl-0001"


def trig(
    rule: str = "streetlight-fault",
    source: str = LIGHT,
    severity: str = "warning",
    *,
    at: dt.datetime | None = None,
    place_code: str | None = None,
    fault: str | None = None,
    agency_code: str | None = None,
) -> Trigger:
    return Trigger(
        rule,
        source,
        "entity",
        severity,
        f"{rule} {source} {severity}",
        f"{rule} {source} {severity} (en)",
        at or utcnow(),
        place_code=place_code,
        agency_code=agency_code,
        fault=fault,
    )


def clear(rule: str = "streetlight-fault", source: str = LIGHT, fault: str | None = None) -> Clear:
    return Clear(rule, source, "back to normal", utcnow(), fault=fault)


def commune_in(session: Session, district_short_name: str) -> Place:
    """A commune of the named demo district (e.g. "Đà Bắc")."""
    district = session.scalar(
        select(Place).where(Place.level == "district", Place.short_name == district_short_name)
    )
    assert district is not None
    found = session.scalar(select(Place).where(Place.parent_code == district.code).limit(1))
    assert found is not None
    return found
