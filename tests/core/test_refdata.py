"""Reference-data versions: stamped by every change to such rows, read in one query."""

from __future__ import annotations

from ioc.core import refdata
from ioc.core.agencies import agency_codes
from ioc.core.db import Database
from ioc.core.models import Agency, Meta

KEY = Agency.__refdata__


def test_versions_of_keys_never_stamped_are_none(database: Database) -> None:
    with database.session() as s:
        assert refdata.versions(s, KEY, "no_such_version") == {KEY: None, "no_such_version": None}


def test_only_a_change_to_reference_data_stamps_a_version(database: Database) -> None:
    with database.session() as s:
        s.add(Meta(key="unrelated", value="x"))
    with database.session() as s:
        assert refdata.versions(s, KEY)[KEY] is None
        s.add(Agency(code="SO-TEST", name="Sở Thử", kind="department"))
    with database.session() as s:
        first = refdata.versions(s, KEY)[KEY]
        assert first is not None
        agency = s.get(Agency, "SO-TEST")
        assert agency is not None
        agency.name = "Sở Thử Nghiệm"
    with database.session() as s:
        second = refdata.versions(s, KEY)[KEY]
        assert second not in (None, first)
        s.delete(s.get(Agency, "SO-TEST"))
    with database.session() as s:
        assert refdata.versions(s, KEY)[KEY] not in (first, second)


def test_a_copy_follows_changes_made_through_another_engine(database: Database) -> None:
    other = Database(database.url)  # as another process would reach the same database
    try:
        with database.session() as s:
            before = agency_codes(s)
            assert "SO-MOI" not in before
            assert agency_codes(s) is before  # nothing changed: the same copy
        with other.session() as s:
            s.add(Agency(code="SO-MOI", name="Sở Mới", kind="department"))
        with database.session() as s:
            assert "SO-MOI" in agency_codes(s)
        with other.session() as s:
            s.delete(s.get(Agency, "SO-MOI"))
        with database.session() as s:
            assert "SO-MOI" not in agency_codes(s)
    finally:
        other.dispose()


def test_a_pending_change_is_seen_in_its_own_session(database: Database) -> None:
    with database.session() as s:
        assert "SO-NHAP" not in agency_codes(s)
        s.add(Agency(code="SO-NHAP", name="Sở Nháp", kind="department"))
        assert "SO-NHAP" in agency_codes(s)  # the version query flushes, which stamps
