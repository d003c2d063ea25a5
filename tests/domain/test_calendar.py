"""Site calendar: open days and hours, slots, local wall time <-> UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfoNotFoundError

import pytest

from clinic.domain.calendar import (
    Chair,
    SiteCalendar,
    format_day,
    format_range,
    local_to_utc,
    utc_to_local,
)

BERLIN = "Europe/Berlin"
WEEKDAYS_8_TO_17 = {weekday: (time(8), time(17)) for weekday in range(5)}


def make_calendar(**overrides: object) -> SiteCalendar:
    """Build a Berlin weekday calendar, changed by ``overrides``."""
    fields: dict[str, object] = {
        "timezone": BERLIN,
        "hours": WEEKDAYS_8_TO_17,
        "closures": frozenset({date(2027, 1, 1)}),
        "max_starts_per_slot": 2,
        "chairs": (Chair(1, "Chair 1"), Chair(2, "Bed 1", "bed")),
    }
    fields.update(overrides)
    return SiteCalendar(**fields)  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 4), True),  # Monday
        (date(2027, 1, 8), True),  # Friday
        (date(2027, 1, 9), False),  # Saturday: no hours
        (date(2027, 1, 10), False),  # Sunday
        (date(2027, 1, 1), False),  # a Friday, but a closure
    ],
)
def test_is_open(day: date, expected: bool) -> None:
    assert make_calendar().is_open(day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 4), (utc(2027, 1, 4, 7), utc(2027, 1, 4, 16))),  # CET, UTC+1
        (date(2027, 7, 5), (utc(2027, 7, 5, 6), utc(2027, 7, 5, 15))),  # CEST, UTC+2
        (date(2027, 1, 9), None),
        (date(2027, 1, 1), None),
    ],
)
def test_open_interval_is_local_hours_in_utc(
    day: date, expected: tuple[datetime, datetime] | None
) -> None:
    assert make_calendar().open_interval(day) == expected


def test_slot_starts_cover_opening_hours() -> None:
    starts = make_calendar().slot_starts(date(2027, 1, 4))
    assert len(starts) == 36
    assert starts[0] == utc(2027, 1, 4, 7)
    assert starts[-1] == utc(2027, 1, 4, 15, 45)
    assert all(start.tzinfo is UTC for start in starts)
    assert make_calendar().slot_starts(date(2027, 1, 9)) == ()


def test_slot_starts_include_a_last_partial_slot() -> None:
    calendar = make_calendar(hours={0: (time(8), time(8, 40))})
    local = [utc_to_local(s, BERLIN).time() for s in calendar.slot_starts(date(2027, 1, 4))]
    assert local == [time(8), time(8, 15), time(8, 30)]


def test_slot_starts_step_in_real_time_on_a_clock_change_day() -> None:
    # 00:00-06:00 local on the spring-forward Sunday is only 5 real hours.
    calendar = make_calendar(hours={6: (time(0), time(6))})
    starts = calendar.slot_starts(date(2027, 3, 28))
    assert len(starts) == 20
    assert all(b - a == timedelta(minutes=15) for a, b in zip(starts, starts[1:]))


@pytest.mark.parametrize(
    ("instant", "index", "floor"),
    [
        (utc(2027, 1, 4, 7), 0, utc(2027, 1, 4, 7)),  # 08:00 local, opening
        (utc(2027, 1, 4, 8, 7), 4, utc(2027, 1, 4, 8)),  # 09:07 local
        (utc(2027, 1, 4, 15, 59), 35, utc(2027, 1, 4, 15, 45)),  # last minute
        (utc(2027, 1, 4, 6, 59), None, None),  # before opening
        (utc(2027, 1, 4, 16), None, None),  # closing time is outside
        (utc(2027, 1, 9, 9), None, None),  # Saturday
    ],
)
def test_slot_index_and_floor(instant: datetime, index: int | None, floor: datetime | None) -> None:
    calendar = make_calendar()
    assert calendar.slot_index(instant) == index
    assert calendar.slot_floor(instant) == floor


def test_weekly_nine_oclock_stays_local_across_both_clock_changes() -> None:
    mondays = [date(2027, 3, 15) + timedelta(weeks=n) for n in range(4)]  # change on 28 Mar
    mondays += [date(2027, 10, 18) + timedelta(weeks=n) for n in range(4)]  # change on 31 Oct
    instants = [local_to_utc(day, time(9), BERLIN) for day in mondays]
    assert [utc_to_local(i, BERLIN).time() for i in instants] == [time(9)] * 8
    assert [i.hour for i in instants] == [8, 8, 7, 7, 7, 7, 8, 8]
    offsets = [utc_to_local(i, BERLIN).utcoffset() for i in instants]
    assert offsets == [timedelta(hours=h) for h in (1, 1, 2, 2, 2, 2, 1, 1)]


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected_utc", "expected_local"),
    [
        # Nonexistent (spring-forward gap): moves forward by the gap.
        (BERLIN, date(2027, 3, 28), time(2, 30), utc(2027, 3, 28, 1, 30), time(3, 30)),
        (BERLIN, date(2027, 3, 28), time(2, 0), utc(2027, 3, 28, 1), time(3, 0)),
        # Ambiguous (fall back): the first occurrence, still on summer time.
        (BERLIN, date(2027, 10, 31), time(2, 30), utc(2027, 10, 31, 0, 30), time(2, 30)),
        (BERLIN, date(2027, 10, 31), time(2, 30, fold=1), utc(2027, 10, 31, 0, 30), time(2, 30)),
        ("America/New_York", date(2027, 3, 14), time(2, 30), utc(2027, 3, 14, 7, 30), time(3, 30)),
        ("America/New_York", date(2027, 11, 7), time(1, 30), utc(2027, 11, 7, 5, 30), time(1, 30)),
        ("Australia/Sydney", date(2027, 4, 4), time(2, 30), utc(2027, 4, 3, 15, 30), time(2, 30)),
    ],
)
def test_local_to_utc_at_clock_changes(
    zone: str, day: date, wall: time, expected_utc: datetime, expected_local: time
) -> None:
    instant = local_to_utc(day, wall, zone)
    assert instant == expected_utc
    assert instant.tzinfo is UTC
    assert utc_to_local(instant, zone).time() == expected_local


def test_ambiguous_time_is_the_earlier_instant() -> None:
    first = local_to_utc(date(2027, 10, 31), time(2, 30), BERLIN)
    second = datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=make_calendar().zone)
    assert first < second.astimezone(UTC)


def test_utc_to_local_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc_to_local(datetime(2027, 1, 4, 9), BERLIN)


def test_local_date_uses_the_site_zone() -> None:
    calendar = make_calendar(timezone="Asia/Tokyo")
    assert calendar.local_date(utc(2027, 1, 4, 23, 30)) == date(2027, 1, 5)


@pytest.mark.parametrize(
    "overrides",
    [
        {"hours": {0: (time(17), time(8))}},
        {"hours": {7: (time(8), time(17))}},
        {"slot_minutes": 0},
        {"turnover_minutes": -5},
        {"max_starts_per_slot": -1},
        {"chairs": (Chair(1, "A"), Chair(1, "B"))},
    ],
)
def test_invalid_calendar_raises(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_calendar(**overrides)


def test_unknown_zone_raises() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        make_calendar(timezone="Mars/Olympus_Mons")


def test_chair_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="kind"):
        Chair(1, "Sofa", "sofa")  # type: ignore[arg-type]


def test_calendar_does_not_follow_changes_to_its_inputs() -> None:
    hours = {0: (time(8), time(17))}
    calendar = make_calendar(hours=hours)
    hours[1] = (time(8), time(17))
    assert not calendar.is_open(date(2027, 1, 5))
    with pytest.raises(TypeError):
        calendar.hours[1] = (time(8), time(17))  # type: ignore[index]


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (date(2027, 1, 12), date(2027, 1, 18), "12–18 Jan 2027"),
        (date(2027, 1, 28), date(2027, 2, 3), "28 Jan–3 Feb 2027"),
        (date(2027, 12, 28), date(2028, 1, 3), "28 Dec 2027–3 Jan 2028"),
        (date(2027, 1, 12), date(2027, 1, 12), "12 Jan 2027"),
    ],
)
def test_format_range(first: date, last: date, text: str) -> None:
    assert format_range(first, last) == text


def test_format_day() -> None:
    assert format_day(date(2027, 1, 16)) == "Sat 16 Jan 2027"
