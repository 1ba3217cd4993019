"""What a citizen may look up without logging in: a dossier's progress by its receipt code.

One-stop-shop receipts carry the dossier's code, and provinces' portals let anyone holding it see
where the dossier is; ``ioc.services.public`` answers, naming no person and no internal note.
"""

from __future__ import annotations

from fastapi import APIRouter

from ioc.core.deps import SessionDep
from ioc.services import public

router = APIRouter(prefix="/api/v1/web/citizen", tags=["services: citizens"])


@router.get("/dossiers/{code}")
def dossier_status(code: str, session: SessionDep) -> public.DossierStatus:
    """A dossier's status, dates and procedure, for whoever holds its receipt code."""
    return public.dossier_status(session, code)
