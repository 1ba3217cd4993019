"""What anyone holding a dossier's receipt code may learn about it, for other capabilities.

One-stop-shop receipts carry the dossier's code and provinces' portals let its holder see where
the dossier stands; the answer names no person, agency officer or internal note. The web screen's
citizen page calls this rather than reading the dossier tables itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.problems import NotFound
from ioc.services.models import Dossier, ServiceProcedure


@dataclass(frozen=True, slots=True)
class DossierStatus:
    """A dossier's progress: procedure, status and dates, nothing about its applicant."""

    code: str
    procedure_code: str
    procedure_name: str
    procedure_name_en: str
    status: str
    received_at: dt.datetime
    due_at: dt.datetime
    completed_at: dt.datetime | None
    on_time: bool | None


def dossier_status(session: Session, code: str) -> DossierStatus:
    """The status of the dossier with receipt code ``code`` (NotFound when there is none)."""
    row = session.execute(
        select(Dossier, ServiceProcedure.name, ServiceProcedure.name_en)
        .join(ServiceProcedure, ServiceProcedure.code == Dossier.procedure_code)
        .where(Dossier.code == code.strip())
    ).first()
    if row is None:
        raise NotFound(f"no dossier {code!r}")
    d, name, name_en = row
    return DossierStatus(
        code=d.code,
        procedure_code=d.procedure_code,
        procedure_name=name,
        procedure_name_en=name_en,
        status=d.status,
        received_at=d.received_at,
        due_at=d.due_at,
        completed_at=d.completed_at,
        on_time=d.on_time,
    )
