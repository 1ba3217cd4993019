"""The demo's indicators: the catalogue, eight quarters of agency-reported values, documents."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ioc.core.db import Base
from ioc.core.models import Agency, Place
from ioc.demo.builder import DemoContext
from ioc.indicators import catalogue, periods, recompute
from ioc.indicators.models import IndicatorValue, OfficialDocument

QUARTERS = 8
# Province totals of the latest quarter (seeds where they give them) and growth per quarter.
TOTALS = {
    "GRDP": (13_500.0, 0.018), "VT-BANGRONG": (120_000.0, 0.02), "VT-CAPQUANG": (9_000.0, 0.015),
    "YT-GIUONG": (4_600.0, 0.004), "GD-HOCSINH": (215_000.0, 0.002),
    "DL-KHACH": (850_000.0, 0.03),
}  # fmt: skip
# Means of the latest quarter, the step per quarter toward it, and the spread between districts.
MEANS = {
    "GRDP-GROWTH": (7.6, 0.1, 1.2), "VT-BTS": (95.8, 0.4, 3.0), "MT-RAC": (88.0, 0.8, 6.0),
    "CDS-CSDL": (90.0, 3.0, 0.0),
    "CDS-THANHTRA": (38.0, 3.0, 0.0), "CDS-KTS": (14.5, 0.7, 0.0),
}  # fmt: skip


def indicators_step(ctx: DemoContext) -> None:
    """Deterministic values: each district's share and trend come from a seeded generator."""
    today = dt.date.today()
    last = periods.key_of(
        periods.bounds(periods.current("quarter", today))[0] - dt.timedelta(1), "quarter"
    )
    keys = periods.previous(last, QUARTERS)
    rng = random.Random(20251)
    with ctx.database.session("demo") as session:
        catalogue.install(session)
        province = session.get(Place, ctx.province_code)
        assert province is not None
        districts = list(
            session.scalars(
                select(Place)
                .where(Place.parent_code == province.code, Place.level == "district")
                .order_by(Place.code)
            )
        )
        weights = [rng.uniform(0.5, 2.0) for _ in districts]
        rows: list[dict[str, object]] = []
        common = {"source": "reported", "status": "approved", "note": "", "review_note": "",
                  "entered_by": "demo", "reviewed_by": "demo"}  # fmt: skip
        for code, (total, growth) in TOTALS.items():
            agency = next(s.agency for s in catalogue.CATALOGUE if s.code == code)
            for back, key in enumerate(reversed(keys)):
                scale = total / (1 + growth) ** back / sum(weights)
                for place, weight in zip(districts, weights, strict=True):
                    value = round(scale * weight * rng.uniform(0.97, 1.03), 1)
                    rows.append({"indicator_code": code, "place_code": place.code, "period": key,
                                 "value": value, "agency_code": agency, **common})  # fmt: skip
        for code, (mean, step, spread) in MEANS.items():
            spec = next(s for s in catalogue.CATALOGUE if s.code == code)
            at = [province] if spec.level == "province" else districts
            offsets = [rng.uniform(-spread, spread) for _ in at]
            for back, key in enumerate(reversed(keys)):
                for place, offset in zip(at, offsets, strict=True):
                    value = min(100.0, round(mean - step * back + offset, 1))
                    rows.append({"indicator_code": code, "place_code": place.code, "period": key,
                                 "value": value, "agency_code": spec.agency, **common})  # fmt: skip
        session.execute(insert(Base.metadata.tables[IndicatorValue.__tablename__]), rows)
        _documents(session, rng, keys)
        recompute.rebuild(session, [*keys[-2:], periods.current("quarter", today)], province.code)
    ctx.notes.append(
        f"indicators: {len(catalogue.CATALOGUE)} in the catalogue, {len(rows)} reported values"
    )


def _documents(session: Session, rng: random.Random, keys: list[str]) -> None:
    """Outgoing documents of the last quarter: ~93 % e-signed provincially, ~87 % in districts."""
    agencies = list(
        session.scalars(select(Agency).where(Agency.kind.in_(("department", "district_pc"))))
    )
    first, last = periods.bounds(keys[-1])
    span = (last - first).days
    rows = []
    for agency in agencies:
        rate = 0.93 if agency.kind == "department" else 0.873
        for n in range(12):
            signed = rng.random() < rate
            rows.append({"number": f"{n + 1}/{agency.code}", "agency_code": agency.code,
                         "place_code": agency.place_code, "title": "Công văn",
                         "issued_on": first + dt.timedelta(days=rng.randrange(span + 1)),
                         "signed": signed, "signature_verified": signed,
                         "created_at": dt.datetime.now(dt.UTC)})  # fmt: skip
    if rows:
        session.execute(insert(Base.metadata.tables[OfficialDocument.__tablename__]), rows)
