"""Dossiers from receipt to result: working-day due dates, supplement pauses, events, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.models import AuditEntry, OutboxEvent
from ioc.core.problems import Conflict, Invalid
from ioc.services import service
from ioc.services.models import DossierStep

from .conftest import DA_BAC, VN, commune_of

UTC = dt.UTC


def _new(session: Session, code: str, procedure: str, at: dt.datetime) -> service.Dossier:
    place = commune_of(session, DA_BAC)
    return service.receive(session, service.NewDossier(code, procedure, place, "online", at))


def test_a_dossier_received_before_tet_is_due_after_the_holiday(session: Session) -> None:
    # DKKD-008 takes 5 working days; Tết 2026 closes offices Mon 16 - Fri 20 Feb.
    d = _new(session, "T-1", "DKKD-008", dt.datetime(2026, 2, 12, 10, tzinfo=VN))
    assert d.due_at == dt.datetime(2026, 2, 26, 17, tzinfo=VN)
    assert d.agency_code == "SKHDT" and d.district_code == DA_BAC
    assert d.status == "received"


def test_commune_and_district_procedures_go_to_the_local_committee(session: Session) -> None:
    birth = _new(session, "T-2", "HO_TICH-001", dt.datetime(2025, 3, 3, 9, tzinfo=VN))
    assert birth.agency_code == f"UBND-{birth.place_code}"
    land = _new(session, "T-3", "DAT_DAI-002", dt.datetime(2025, 3, 3, 9, tzinfo=VN))
    assert land.agency_code == f"UBND-{DA_BAC}"


def test_a_supplement_request_pauses_the_clock(session: Session) -> None:
    # DKKD-001: 3 working days, received Monday 3 March 2025 → due Thursday 6 March 17:00.
    d = _new(session, "T-4", "DKKD-001", dt.datetime(2025, 3, 3, 9, tzinfo=VN))
    assert d.due_at == dt.datetime(2025, 3, 6, 17, tzinfo=VN)
    service.transition(session, d, "processing", at=dt.datetime(2025, 3, 3, 10, tzinfo=VN))
    service.transition(session, d, "supplement_requested", at=dt.datetime(2025, 3, 5, 9, tzinfo=VN))
    # The citizen brings the papers the next Monday: Thu, Fri, Mon were theirs, not the agency's.
    service.transition(session, d, "processing", at=dt.datetime(2025, 3, 10, 9, tzinfo=VN))
    assert d.paused_days == 3
    assert d.due_at == dt.datetime(2025, 3, 11, 17, tzinfo=VN)
    service.transition(
        session, d, "completed", at=dt.datetime(2025, 3, 11, 15, tzinfo=VN), delivery="post"
    )
    assert d.on_time is True and d.delivery == "post"
    assert d.completed_at == dt.datetime(2025, 3, 11, 8, tzinfo=UTC)


def test_a_result_after_the_due_date_is_late(session: Session) -> None:
    d = _new(session, "T-5", "DKKD-001", dt.datetime(2025, 3, 3, 9, tzinfo=VN))
    service.transition(session, d, "processing", at=dt.datetime(2025, 3, 3, 10, tzinfo=VN))
    service.transition(session, d, "completed", at=dt.datetime(2025, 3, 7, 8, tzinfo=VN), rating=2)
    assert d.on_time is False and d.rating == 2
    assert d.delivery == "online"  # an online dossier's result goes back online by default


def test_the_workflow_refuses_what_it_does_not_allow(session: Session) -> None:
    d = _new(session, "T-6", "DKKD-001", dt.datetime(2025, 3, 3, 9, tzinfo=VN))
    with pytest.raises(Invalid):
        service.transition(session, d, "rejected", note="  ")
    service.transition(session, d, "withdrawn")
    assert d.on_time is None and d.completed_at is not None
    with pytest.raises(Conflict):
        service.transition(session, d, "processing")
    with pytest.raises(Conflict):
        _new(session, "T-6", "DKKD-001", dt.datetime(2025, 3, 3, 9, tzinfo=VN))
    with pytest.raises(Invalid):
        _new(session, "T-7", "NO-SUCH", dt.datetime(2025, 3, 3, 9, tzinfo=VN))


def test_hand_offs_and_every_change_are_stepped_audited_and_announced(session: Session) -> None:
    d = _new(session, "T-8", "XAY_DUNG-002", dt.datetime(2025, 3, 3, 9, tzinfo=VN))
    service.transition(session, d, "processing", at=dt.datetime(2025, 3, 3, 10, tzinfo=VN))
    service.hand_off(
        session, d, "STNMT", note="xin ý kiến về đất", at=dt.datetime(2025, 3, 4, 9, tzinfo=VN)
    )
    service.transition(session, d, "completed", at=dt.datetime(2025, 3, 20, 9, tzinfo=VN))
    assert d.agency_code == "SXD" and d.current_agency == "STNMT"
    steps = session.scalars(select(DossierStep).where(DossierStep.dossier_id == d.id)).all()
    assert [s.action for s in steps] == ["receive", "processing", "hand_off", "completed"]
    assert (steps[2].from_agency, steps[2].to_agency) == ("SXD", "STNMT")
    events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.subject == "T-8").order_by(OutboxEvent.id)
    ).all()
    assert [e.type for e in events] == [
        "dossier.created",
        "dossier.status.changed",
        "dossier.handed_off",
        "dossier.status.changed",
    ]
    last = events[-1]
    assert last.place_code == d.place_code
    assert last.data["agency"] == "SXD" and last.data["procedure"] == "XAY_DUNG-002"
    assert last.data["status"] == "completed" and last.data["on_time"] is True
    assert last.data["status_from"] == "processing" and last.data["district"] == DA_BAC
    audited = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "dossiers")
    ).all()
    assert audited.count("insert") == 1 and audited.count("update") >= 3
