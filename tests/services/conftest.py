"""Fixtures of the public-services tests: the demo province with its catalogue, no dossiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ioc.core.db import Database
from ioc.core.models import AuditEntry, OutboxEvent, Place
from ioc.services.catalogue import seed_catalogue
from ioc.services.models import Dossier, DossierStep

VN = dt.timezone(dt.timedelta(hours=7))
DA_BAC = "150"  # Huyện Đà Bắc: the demo district admin's district
HOA_BINH_CITY = "148"


@pytest.fixture
def services_db(demo_db: Database) -> Database:
    """The demo database (Hòa Bình) with the procedure catalogue and no dossiers at all."""
    with demo_db.session("test") as session:
        seed_catalogue(session)
        session.execute(delete(DossierStep))
        session.execute(delete(Dossier))
        session.execute(delete(OutboxEvent).where(OutboxEvent.type.startswith("dossier.")))
        session.execute(delete(AuditEntry).where(AuditEntry.entity == "dossiers"))
    return demo_db


@pytest.fixture
def session(services_db: Database) -> Iterator[Session]:
    with services_db.session("test") as s:
        s.info["actor"] = "test"
        yield s


def commune_of(session: Session, district: str, index: int = 0) -> str:
    """A commune of ``district`` (by code order), for rows that must land in a known place."""
    codes = session.scalars(
        select(Place.code)
        .where(Place.level == "commune", Place.parent_code == district)
        .order_by(Place.code)
    ).all()
    return codes[index]
