"""The live demo: new simulated reports through the reception service, and progress on open ones.

Everything goes through ``ioc.feedback.service``, so each step is validated, audited and
announced on the bus like a citizen's or an officer's own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.db import Database, utcnow
from ioc.core.models import Place
from ioc.core.problems import Problem
from ioc.core.workdays import VIETNAM_TZ, default_calendar
from ioc.feedback import demo_text as words
from ioc.feedback.models import OPEN_STATUSES, FeedbackRequest, FeedbackService
from ioc.feedback.service import DuplicateRule, Submitted, assign, rate, submit, transition
from ioc.feedback.simulated import World, load_communes

ACTOR = "system:simulator"
RECENT = 60  # the simulator moves along some of the most recent open requests
KEEP_TOKENS = 500  # tokens of its own latest reports, so it can rate them once resolved
SATISFIED = 0.96


@dataclass
class Tick:
    """What one round did."""

    submitted: Submitted | None
    moved: int


class Simulator:
    """Adds one report per tick and moves a few open requests one step along the workflow."""

    def __init__(
        self, rng: random.Random | None = None, *, moves: int = 3, rule: DuplicateRule | None = None
    ) -> None:
        self.rng = rng or random.Random()
        self.moves = moves
        self.rule = rule
        self.tokens: dict[int, str] = {}
        self._world: World | None = None

    def tick(self, database: Database) -> Tick:
        """One round: a new report, then progress, each in its own transaction."""
        with database.session(ACTOR) as session:
            submitted = self.report(session)
        with database.session(ACTOR) as session:
            moved = self.advance(session)
        return Tick(submitted, moved)

    def world(self, session: Session) -> World | None:
        """The province's communes and categories, read once; None while there are none."""
        if self._world is None:
            province = session.scalar(select(Place.code).where(Place.level == "province"))
            codes = list(
                session.scalars(select(FeedbackService.code).where(FeedbackService.active))
            )
            communes = load_communes(session, province) if province else []
            if communes and codes:
                self._world = World(communes, codes)
        return self._world

    def report(self, session: Session) -> Submitted | None:
        """A citizen's new report, submitted as any other; None if the province is not loaded."""
        world = self.world(session)
        if world is None:
            return None
        now = utcnow()
        local = now.astimezone(VIETNAM_TZ)
        office = default_calendar().is_working_day(local.date()) and 7 <= local.hour < 17
        commune = world.commune(self.rng)
        category = world.category(self.rng, commune, local.month)
        draft = world.draft(self.rng, commune, category, world.channel(self.rng, office))
        submitted = submit(session, draft.submission(), self.rule)
        self.tokens[submitted.request.id] = submitted.token
        while len(self.tokens) > KEEP_TOKENS:
            del self.tokens[next(iter(self.tokens))]
        return submitted

    def advance(self, session: Session) -> int:
        """Move up to ``moves`` recent requests one step: assigned, in progress, resolved, rated."""
        candidates = list(
            session.scalars(
                select(FeedbackRequest)
                .where(FeedbackRequest.status.in_(sorted(OPEN_STATUSES)))
                .order_by(FeedbackRequest.requested_at.desc())
                .limit(RECENT)
            )
        )
        if self.tokens:
            candidates += session.scalars(
                select(FeedbackRequest).where(
                    FeedbackRequest.status == "resolved",
                    FeedbackRequest.id.in_(list(self.tokens)),
                )
            )
        moved = 0
        for req in self.rng.sample(candidates, min(self.moves, len(candidates))):
            try:
                self._step(session, req)
            except Problem:
                continue  # someone else moved it meanwhile; the next tick picks another
            moved += 1
        return moved

    def _step(self, session: Session, req: FeedbackRequest) -> None:
        rng = self.rng
        if req.status == "received" and req.agency_code:
            assign(session, req, req.agency_code, "Chuyển đơn vị có thẩm quyền xử lý.")
        elif req.status in ("received", "assigned"):
            transition(session, req, "in_progress", note=rng.choice(words.PROGRESS_NOTES))
        elif req.status == "in_progress":
            answer = rng.choice(words.ANSWERS.get(req.service_code, words.ANSWERS["other"]))
            transition(session, req, "resolved", note=answer)
        elif req.status == "resolved":
            happy = rng.random() < SATISFIED
            stars = rng.choice((4, 5, 5)) if happy else rng.choice((1, 2, 3))
            rate(session, self.tokens.pop(req.id), stars)
            transition(session, req, "closed", note=words.CLOSE_NOTE)
