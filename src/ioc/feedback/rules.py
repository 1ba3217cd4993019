"""The service catalogue as each report reads it: a service's rules, copied into memory.

Every report looks up its service's attributes, owner, routing and SLA. The catalogue changes
rarely (``ioc feedback catalogue``, the admin API), so each process keeps a copy, rebuilt when
the ``catalogue_version`` stamped by any change differs (``ioc.core.refdata``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core import refdata
from ioc.core.problems import Invalid
from ioc.feedback.models import FeedbackService


class ServiceLike(Protocol):
    """What checking and routing a report need of a service: its row or its rules."""

    @property
    def code(self) -> str: ...

    @property
    def attributes(self) -> list[Any]: ...

    @property
    def agency_code(self) -> str | None: ...

    @property
    def route_to(self) -> str: ...

    @property
    def sla_days(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """One service's rules; shared between threads, so never changed after it is built."""

    code: str
    active: bool
    attributes: list[Any]
    agency_code: str | None
    route_to: str
    sla_days: int


def _load(session: Session) -> Mapping[str, ServiceRules]:
    s = FeedbackService.__table__.c
    stmt = select(s.code, s.active, s.attributes, s.agency_code, s.route_to, s.sla_days)
    return {row.code: ServiceRules(*row) for row in session.execute(stmt)}


_CATALOGUE = refdata.Cache(FeedbackService.__refdata__, _load)


def active_rules(
    session: Session, code: str | None, known: refdata.Versions | None = None
) -> ServiceRules:
    """The rules of an active service, or Invalid naming ``service_code``."""
    if not code:
        raise Invalid("service_code", "is required")
    rules = _CATALOGUE.get(session, known).get(code)
    if rules is None or not rules.active:
        raise Invalid("service_code", f"unknown service_code {code!r}")
    return rules
