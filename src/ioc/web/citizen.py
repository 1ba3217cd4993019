"""What a citizen may look up without logging in: a dossier's progress by its receipt code.

One-stop-shop receipts carry the dossier's code, and provinces' portals let anyone holding it see
where the dossier is; ``ioc.services.public`` answers, naming no person and no internal note.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel

from ioc.core.deps import SessionDep
from ioc.services import public

router = APIRouter(prefix="/api/v1/web/citizen", tags=["services: citizens"])


class DossierStatus(BaseModel):
    code: str
    procedure_code: str
    procedure_name: str
    procedure_name_en: str
    status: str
    received_at: dt.datetime
    due_at: dt.datetime
    completed_at: dt.datetime | None
    on_time: bool | None


@router.get("/dossiers/{code}")
def dossier_status(code: str, session: SessionDep) -> DossierStatus:
    """A dossier's status, dates and procedure, for whoever holds its receipt code."""
    return DossierStatus(**dataclasses.asdict(public.dossier_status(session, code)))
