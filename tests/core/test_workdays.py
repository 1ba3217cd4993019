"""Working days, due dates and elapsed working days on Vietnam's public-sector calendar."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from ioc.core.workdays import WorkCalendar, default_calendar, public_days

ICT = ZoneInfo("Asia/Ho_Chi_Minh")


def ict(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ICT)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_tet_2025_is_what_the_government_announced(cal: WorkCalendar) -> None:
    off, _ = public_days(2025)
    around_tet = set(days(date(2025, 1, 15), date(2025, 2, 15)))
    assert off & around_tet == set(days(date(2025, 1, 27), date(2025, 2, 1)))
    assert cal.is_working_day(date(2025, 1, 24))
    assert not any(cal.is_working_day(d) for d in days(date(2025, 1, 25), date(2025, 2, 2)))
    assert cal.is_working_day(date(2025, 2, 3))


def test_tet_2024_and_2026(cal: WorkCalendar) -> None:
    assert not any(cal.is_working_day(d) for d in days(date(2024, 2, 8), date(2024, 2, 14)))
    assert cal.is_working_day(date(2024, 2, 7)) and cal.is_working_day(date(2024, 2, 15))
    assert not any(cal.is_working_day(d) for d in days(date(2026, 2, 14), date(2026, 2, 22)))
    assert cal.is_working_day(date(2026, 2, 13)) and cal.is_working_day(date(2026, 2, 23))


def test_reunification_and_labour_day_2025_with_the_swapped_saturday(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2025, 4, 26))  # Saturday worked to free Friday 2 May
    assert cal.is_working_day(date(2025, 4, 29))
    assert not any(cal.is_working_day(d) for d in days(date(2025, 4, 30), date(2025, 5, 4)))
    assert cal.is_working_day(date(2025, 5, 5))


def test_national_day_2025(cal: WorkCalendar) -> None:
    assert {date(2025, 9, 1), date(2025, 9, 2)} <= public_days(2025)[0]
    assert not any(cal.is_working_day(d) for d in days(date(2025, 8, 30), date(2025, 9, 2)))
    assert cal.is_working_day(date(2025, 8, 29)) and cal.is_working_day(date(2025, 9, 3))


def test_weekends_are_off_and_weekdays_on(cal: WorkCalendar) -> None:
    week = days(date(2025, 3, 10), date(2025, 3, 16))
    assert [cal.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_friday_afternoon_plus_one_is_monday_end_of_day(cal: WorkCalendar) -> None:
    due = cal.add_working_days(ict(2025, 3, 14, 15, 30), 1)
    assert due == ict(2025, 3, 17, 17, 0)
    assert due.tzinfo is UTC and due == datetime(2025, 3, 17, 10, 0, tzinfo=UTC)


def test_receipt_day_is_the_local_day_not_the_utc_one(cal: WorkCalendar) -> None:
    thursday_utc_friday_ict = datetime(2025, 3, 13, 18, 0, tzinfo=UTC)
    assert cal.add_working_days(thursday_utc_friday_ict, 1) == ict(2025, 3, 17, 17)


def test_received_on_a_holiday_counts_from_the_next_working_day(cal: WorkCalendar) -> None:
    received = ict(2025, 4, 30, 10, 0)
    assert cal.add_working_days(received, 1) == ict(2025, 5, 5, 17)
    assert cal.add_working_days(received, 2) == ict(2025, 5, 6, 17)
    assert cal.add_working_days(ict(2025, 3, 15, 9), 1) == ict(2025, 3, 17, 17)  # Saturday


def test_zero_days_is_the_end_of_the_day_of_receipt(cal: WorkCalendar) -> None:
    assert cal.add_working_days(ict(2025, 3, 14, 8), 0) == ict(2025, 3, 14, 17)


def test_package_make_up_saturday_counts(cal: WorkCalendar) -> None:
    assert cal.add_working_days(ict(2025, 4, 25, 16), 1) == ict(2025, 4, 26, 17)


def test_operator_make_up_saturday_counts() -> None:
    cal = WorkCalendar(extra_working_days=[date(2025, 3, 15)])
    assert cal.is_working_day(date(2025, 3, 15))
    assert cal.add_working_days(ict(2025, 3, 14, 15), 1) == ict(2025, 3, 15, 17)


def test_operator_days_off_are_skipped() -> None:
    cal = WorkCalendar(extra_days_off=[date(2025, 3, 17), date(2025, 3, 18)])
    assert cal.add_working_days(ict(2025, 3, 14, 15), 1) == ict(2025, 3, 19, 17)
    assert cal.next_working_day(date(2025, 3, 14)) == date(2025, 3, 19)


def test_operator_can_reopen_a_holiday_and_cannot_list_a_day_twice() -> None:
    assert WorkCalendar(extra_working_days=[date(2025, 5, 2)]).is_working_day(date(2025, 5, 2))
    with pytest.raises(ValueError, match="both off and worked"):
        WorkCalendar(extra_days_off=[date(2025, 5, 2)], extra_working_days=[date(2025, 5, 2)])


def test_across_the_new_year(cal: WorkCalendar) -> None:
    received = ict(2025, 12, 31, 9)
    assert cal.add_working_days(received, 1) == ict(2026, 1, 2, 17)
    assert cal.add_working_days(received, 3) == ict(2026, 1, 6, 17)
    assert cal.working_days_between(received, ict(2026, 1, 6, 8)) == 3
    assert cal.next_working_day(date(2025, 12, 31)) == date(2026, 1, 2)


def test_next_working_day_is_strictly_after(cal: WorkCalendar) -> None:
    assert cal.next_working_day(date(2025, 3, 10)) == date(2025, 3, 11)
    assert cal.next_working_day(date(2025, 1, 24)) == date(2025, 2, 3)


def test_custom_end_of_day() -> None:
    cal = WorkCalendar(day_end=time(16, 30))
    assert cal.add_working_days(ict(2025, 3, 14, 15), 1) == datetime(2025, 3, 17, 9, 30, tzinfo=UTC)


def test_working_days_between_counts_days_after_receipt(cal: WorkCalendar) -> None:
    friday = ict(2025, 3, 14, 15)
    assert cal.working_days_between(friday, ict(2025, 3, 14, 16)) == 0
    assert cal.working_days_between(friday, ict(2025, 3, 16, 12)) == 0
    assert cal.working_days_between(friday, ict(2025, 3, 17, 20)) == 1
    assert cal.working_days_between(ict(2025, 3, 17, 20), friday) == -1


def test_rejects_naive_datetimes_and_negative_days(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_days(datetime(2025, 3, 14, 15), 1)
    with pytest.raises(ValueError, match=">= 0"):
        cal.add_working_days(ict(2025, 3, 14, 15), -1)


def test_default_calendar_is_shared() -> None:
    assert default_calendar() is default_calendar()


def test_due_dates_agree_with_the_package_and_invert_working_days_between() -> None:
    cal = WorkCalendar()
    vn = holidays.country_holidays("VN", years=range(2023, 2029))
    rng = random.Random(20250128)
    first = datetime(2023, 1, 1, tzinfo=UTC)
    for _ in range(3000):
        start = first + timedelta(seconds=rng.randrange(5 * 365 * 86400))
        n = rng.randrange(31)
        due = cal.add_working_days(start, n)
        assert cal.working_days_between(start, due) == n
        expected = start.astimezone(ICT).date()
        for _ in range(n):
            expected += timedelta(1)
            while not vn.is_working_day(expected):
                expected += timedelta(1)
        assert due == datetime.combine(expected, time(17), tzinfo=ICT)
