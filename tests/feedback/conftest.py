"""Fixtures of the feedback tests: the demo province with its feedback catalogue."""

from __future__ import annotations

import pytest

from ioc.core.db import Database
from ioc.feedback.catalogue import seed_catalogue


@pytest.fixture
def catalogue(demo_db: Database) -> Database:
    """The demo database (Hòa Bình) with the feedback catalogue seeded: services to report."""
    with demo_db.session("test") as session:
        seed_catalogue(session)
    return demo_db


@pytest.fixture
def queue_db(catalogue: Database) -> Database:
    """The catalogue's database with no feedback at all, whatever the demo steps added."""
    from sqlalchemy import delete, update

    from ioc.core.models import AuditEntry, OutboxEvent
    from ioc.feedback.models import FeedbackNote, FeedbackRequest

    with catalogue.session("test") as session:
        session.execute(delete(FeedbackNote))
        session.execute(update(FeedbackRequest).values(duplicate_of=None))
        session.execute(delete(FeedbackRequest))
        session.execute(delete(OutboxEvent).where(OutboxEvent.type.startswith("feedback.")))
        session.execute(delete(AuditEntry).where(AuditEntry.entity.startswith("feedback_")))
    return catalogue
