"""The procedure catalogue: the seeds' size, real agencies, every sector."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioc.core.models import Agency
from ioc.services.catalogue import procedures, seed_catalogue
from ioc.services.models import ServiceProcedure


def test_the_catalogue_has_the_seeds_size_and_online_share(session: Session) -> None:
    rows = session.scalars(select(ServiceProcedure)).all()
    assert len(rows) == 273
    assert sum(p.online_level == "full_online" for p in rows) == 90
    assert {p.legacy_level for p in rows if p.online_level == "full_online"} == {4}
    assert {p.legacy_level for p in rows if p.online_level != "full_online"} <= {2, 3}
    assert len({p.sector for p in rows}) >= 12
    assert len({p.name for p in rows}) == 273  # no two procedures share a name
    assert all(p.processing_days >= 1 and p.fee >= 0 for p in rows)


def test_every_procedure_belongs_to_a_real_agency(session: Session) -> None:
    agencies = set(session.scalars(select(Agency.code)))
    assert {p.agency_code for p in session.scalars(select(ServiceProcedure))} <= agencies


def test_seeding_again_changes_nothing_and_is_deterministic(session: Session) -> None:
    assert seed_catalogue(session) == 0
    assert session.scalar(select(func.count()).select_from(ServiceProcedure)) == 273
    first, again = procedures(), procedures()
    assert [(p.code, p.name, p.online_level) for p in first] == [
        (p.code, p.name, p.online_level) for p in again
    ]
