"""Where a user or key may look: a place subtree and/or a set of agencies, applied in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from ioc.core.models import Place

Column = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True, slots=True)
class Scope:
    """``place_path`` None = every place; ``agency_codes`` None = every agency."""

    place_code: str | None = None
    place_path: str | None = None
    agency_codes: frozenset[str] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.place_code is None and self.agency_codes is None

    @classmethod
    def everywhere(cls) -> Scope:
        return cls()

    @classmethod
    def build(cls, session: Session, place_code: str | None, agencies: list[str]) -> Scope:
        """Resolve a stored place code to its path once, so filters need no join."""
        path = None
        if place_code is not None:
            path = session.scalar(select(Place.path).where(Place.code == place_code))
            if path is None:  # a scope on a place that no longer exists sees nothing
                path = "\x00"
        return cls(place_code, path, frozenset(agencies) if agencies else None)

    def places(self) -> Select[str]:
        """Codes of every place inside the scope (the root and its descendants)."""
        assert self.place_path is not None
        return select(Place.code).where(
            or_(Place.path == self.place_path, Place.path.like(self.place_path + "/%"))
        )

    def where(
        self, *, place: Column | None = None, agency: Column | None = None
    ) -> ColumnElement[bool]:
        """A WHERE clause keeping rows inside the scope; restrictions without a column deny."""
        clauses: list[ColumnElement[bool]] = []
        if self.place_path is not None:
            clauses.append(place.in_(self.places()) if place is not None else false())
        if self.agency_codes is not None:
            if agency is not None:
                clauses.append(agency.in_(sorted(self.agency_codes)))
            elif place is None:
                clauses.append(false())
        return and_(*clauses) if clauses else true()

    def contains_place(self, session: Session, place_code: str | None) -> bool:
        """Is this place (None = province-wide) inside the scope?"""
        if self.place_path is None:
            return True
        if place_code is None:
            return False
        path = session.scalar(select(Place.path).where(Place.code == place_code))
        return path is not None and (
            path == self.place_path or path.startswith(self.place_path + "/")
        )

    def contains_agency(self, agency_code: str | None) -> bool:
        return self.agency_codes is None or agency_code in self.agency_codes

    def covers(self, session: Session, other: Scope) -> bool:
        """Is ``other`` entirely inside this scope (so granting it is no escalation)?"""
        if self.place_path is not None and (
            other.place_path is None or not self.contains_place(session, other.place_code)
        ):
            return False
        return self.agency_codes is None or (
            other.agency_codes is not None and other.agency_codes <= self.agency_codes
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "place_code": self.place_code,
            "agency_codes": sorted(self.agency_codes) if self.agency_codes is not None else None,
        }
