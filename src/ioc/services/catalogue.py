"""The province's procedure catalogue: ~270 procedures across the real sectors, ~90 full online.

Names follow the national public-service portal's wording. Each sector lists its core
procedures; those that issue a licence or certificate also get the portal's usual follow-ups
(re-issue, amendment, extension), which is where most of a real catalogue's long tail comes
from. Everything is deterministic: the same catalogue on every run.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.audit import record
from ioc.core.events import emit
from ioc.services.models import ServiceProcedure
from ioc.services.online import CATALOGUE_CHANGED
from ioc.services.procedure_data import SECTORS, Item, Sector

TARGET_SIZE = 273  # Hòa Bình's portal: 273 level-3 services …
FULL_ONLINE = 90  # … of which 90 were offered fully online


FOLLOW_UPS = (
    ("Cấp lại", "Re-issuing the", 0.5),
    ("Cấp điều chỉnh", "Amending the", 0.7),
    ("Gia hạn", "Extending the", 0.6),
    ("Cấp đổi", "Exchanging the", 0.5),
)


def _follow_up(item: Item, verb_vi: str, verb_en: str, share: float) -> Item:
    subject = item.vi.removeprefix("Cấp ").removeprefix("Đăng ký, cấp ").removeprefix("Đăng ký ")
    subject = subject[0].lower() + subject[1:]
    return Item(
        f"{verb_vi} {subject}",
        f"{verb_en} {item.en[0].lower() + item.en[1:]}",
        item.tier,
        max(1, round(item.days * share)),
        item.fee // 2,
    )


def _full_online(code: str, item: Item) -> bool:
    """Simple, low-fee, fast procedures go fully online first, as provinces did."""
    return item.days <= 10 and item.fee <= 200_000


def procedures() -> list[ServiceProcedure]:
    """The catalogue as unsaved rows: core procedures, then their follow-ups, up to the target."""
    rows: list[tuple[Sector, Item]] = []
    tails: list[tuple[Sector, Item]] = []
    for sector in SECTORS:
        rows.extend((sector, item) for item in sector.items)
    for follow_up in FOLLOW_UPS:  # every licence's re-issue before any amendment, and so on
        for sector in SECTORS:
            tails.extend((sector, _follow_up(i, *follow_up)) for i in sector.items if i.licence)
    rows.extend(tails[: TARGET_SIZE - len(rows)])
    counters: dict[str, int] = {}
    out: list[ServiceProcedure] = []
    online = 0
    for sector, item in rows:
        counters[sector.code] = counters.get(sector.code, 0) + 1
        code = f"{sector.code}-{counters[sector.code]:03d}"
        full = online < FULL_ONLINE and _full_online(code, item)
        online += full
        out.append(
            ServiceProcedure(
                code=code,
                name=item.vi,
                name_en=item.en,
                sector=sector.code,
                agency_code=sector.agency,
                tier=item.tier,
                online_level="full_online" if full else "partial_online",
                legacy_level=4 if full else (3 if item.fee <= 1_000_000 else 2),
                processing_days=item.days,
                fee=item.fee,
                postal_return=item.tier != "commune" or item.days > 1,
                active=True,
            )
        )
    return out


SECTOR_NAMES = {s.code: (s.vi, s.en) for s in SECTORS}


def seed_catalogue(session: Session) -> int:
    """Create the procedures not yet stored (operators' edits to stored ones are kept)."""
    have = set(session.scalars(select(ServiceProcedure.code)))
    new = [p for p in procedures() if p.code not in have]
    session.add_all(new)
    session.flush()
    if new:
        record(session, "seed", "service_procedures", "catalogue", after={"created": len(new)})
        emit(session, CATALOGUE_CHANGED, {"created": len(new)})  # level-4 share follows it
    return len(new)
