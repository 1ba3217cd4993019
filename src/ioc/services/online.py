"""How far public services are online: the catalogue's full-online share, dossiers filed online.

*Full online* (``dịch vụ công trực tuyến toàn trình``, Decree 42/2022) is what Resolution 8
and earlier reports call level 4: the whole procedure, payment and result included, online.
The indicators capability reads both through these functions, never the tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from ioc.services.measures import bounds
from ioc.services.models import Dossier, ServiceProcedure

CATALOGUE_CHANGED = "procedure.catalogue.changed"  # the event a catalogue change emits


def full_online_share(session: Session) -> tuple[int, int]:
    """(procedures offered fully online, procedures offered) among the active ones."""
    p = ServiceProcedure
    row = session.execute(
        select(
            func.coalesce(func.sum(case((p.online_level == "full_online", 1), else_=0)), 0),
            func.count(),
        ).where(p.active.is_(True))
    ).one()
    return int(row[0]), int(row[1])


def received_online(
    session: Session, start: dt.date, end: dt.date, where: ColumnElement[bool]
) -> tuple[int, int]:
    """(filed online, filed) of the dossiers received from ``start`` to ``end`` (local days,
    both included) that ``where`` keeps (e.g. a scope over place and agency)."""
    first, after = bounds(start, end)
    d = Dossier
    row = session.execute(
        select(
            func.coalesce(func.sum(case((d.channel == "online", 1), else_=0)), 0),
            func.count(),
        ).where(d.received_at >= first, d.received_at < after, where)
    ).one()
    return int(row[0]), int(row[1])
