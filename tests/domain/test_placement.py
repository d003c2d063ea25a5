"""Placement of dose targets into chairs and slots (protocols §10), table-driven."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from clinic.domain.calendar import Chair, SiteCalendar, local_to_utc, utc_to_local
from clinic.domain.placement import Occupancy, Placement, Preferences, place
from clinic.domain.targets import DoseTarget

BERLIN = "Europe/Berlin"
PATIENT = 7
OTHER_PATIENT = 8
# January 2027: Mon 11, Tue 12, Wed 13, Thu 14, Fri 15, Sat 16, Sun 17, Mon 18.
MON, TUE, WED, THU, FRI = (date(2027, 1, 11) + timedelta(days=n) for n in range(5))
SAT, SUN, NEXT_MON = date(2027, 1, 16), date(2027, 1, 17), date(2027, 1, 18)
CHAIRS = (Chair(1, "Chair 1"), Chair(2, "Chair 10"), Chair(3, "Chair 2"), Chair(9, "Bed 1", "bed"))


def site(**overrides: object) -> SiteCalendar:
    """Build a Berlin site open Mon-Fri 08:00-17:00, changed by ``overrides``."""
    fields: dict[str, object] = {
        "timezone": BERLIN,
        "hours": {weekday: (time(8), time(17)) for weekday in range(5)},
        "max_starts_per_slot": 2,
        "chairs": CHAIRS,
    }
    fields.update(overrides)
    return SiteCalendar(**fields)  # type: ignore[arg-type]


def dose(
    number: int, target: date, before: int = 3, after: int = 3, **fields: object
) -> DoseTarget:
    """Build a 60+60 min dose with a -before/+after day window."""
    values: dict[str, object] = {"infusion_minutes": 60, "observation_minutes": 60}
    values.update(fields)
    return DoseTarget(
        number=number,
        phase="maintenance",
        target_date=target,
        earliest=target - timedelta(days=before),
        latest=target + timedelta(days=after),
        amount=300.0,
        unit="mg",
        **values,  # type: ignore[arg-type]
    )


def course(first_day: date, days: int, after: int = 7) -> list[DoseTarget]:
    """Build the doses of one multi-day course on consecutive target days, window -0/+after."""
    return [
        dose(n + 1, first_day + timedelta(days=n), 0, after, course_day=n, course_days=days)
        for n in range(days)
    ]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return the UTC instant of a Berlin wall time."""
    return local_to_utc(day, time(hour, minute), BERLIN)


def busy_all_day(day: date, chair_ids: tuple[int, ...]) -> list[tuple[int, datetime, datetime]]:
    return [(chair_id, at(day, 8), at(day, 17)) for chair_id in chair_ids]


def run(
    targets: list[DoseTarget],
    calendar: SiteCalendar | None = None,
    occupancy: Occupancy | None = None,
    preferences: Preferences = Preferences(),
) -> Placement:
    return place(targets, calendar or site(), occupancy or Occupancy(), PATIENT, preferences)


def local_start(placement: Placement, index: int = 0) -> time:
    return utc_to_local(placement.placed[index].start, BERLIN).time()


# -- choosing the day ---------------------------------------------------------


def test_free_target_day_takes_opening_slot_in_first_chair_by_label() -> None:
    result = run([dose(1, TUE)])
    (placed,) = result.placed
    assert (placed.day, placed.chair_id, placed.start) == (TUE, 1, at(TUE, 8))
    assert placed.end == at(TUE, 10)  # infusion + observation
    assert placed.blocked_until == at(TUE, 10, 15)  # + turnover
    assert placed.moved_reason is None
    assert result.unplaced == []


@pytest.mark.parametrize(
    ("target", "closures", "expected_day", "reason"),
    [
        # Fri 15 closed too: Sun 17 (+1) closed, Thu 14 (-2) and Mon 18 (+2) tie -> later.
        (SAT, {FRI}, NEXT_MON, "target Sat 16 Jan 2027 closed → Mon 18 Jan 2027 (window −3/+3)"),
        (SAT, set(), FRI, "target Sat 16 Jan 2027 closed → Fri 15 Jan 2027 (window −3/+3)"),
        (WED, {WED}, THU, "target Wed 13 Jan 2027 closed → Thu 14 Jan 2027 (window −3/+3)"),
        (WED, {WED, THU}, TUE, "target Wed 13 Jan 2027 closed → Tue 12 Jan 2027 (window −3/+3)"),
        (WED, {THU, TUE}, FRI, "target Wed 13 Jan 2027 closed → Fri 15 Jan 2027 (window −3/+3)"),
    ],
)
def test_closed_target_moves_to_nearest_open_day_tie_later(
    target: date, closures: set[date], expected_day: date, reason: str
) -> None:
    result = run([dose(1, target)], site(closures=frozenset(closures | {target})))
    assert result.placed[0].day == expected_day
    assert result.placed[0].moved_reason == reason


def test_never_before_earliest() -> None:
    # Window -0/+2 from Fri: Sat and Sun closed, so Mon is out of reach too.
    result = run([dose(1, FRI, 0, 2)], site(closures=frozenset({FRI})))
    assert result.placed == []
    assert result.unplaced[0].reason == "closed every day of the window 15–17 Jan 2027"


def test_target_before_earliest_moves_inside_the_window() -> None:
    # A minimum gap can push earliest past the nominal target date.
    placed = run([replace(dose(1, WED), earliest=THU, latest=FRI)]).placed[0]
    assert placed.day == THU
    assert placed.moved_reason == (
        "target Wed 13 Jan 2027 outside the window 14–15 Jan 2027 → Thu 14 Jan 2027 (window +1/+2)"
    )


def test_empty_window_is_unplaced() -> None:
    result = run([dose(1, WED, -2, -1)])
    assert result.unplaced[0].reason == (
        "window is empty: earliest Fri 15 Jan 2027, latest Tue 12 Jan 2027"
    )


def test_full_target_day_moves_to_next_day() -> None:
    occupancy = Occupancy.from_busy(busy_all_day(WED, (1, 2, 3, 9)))
    result = run([dose(1, WED)], occupancy=occupancy)
    assert result.placed[0].day == THU
    assert result.placed[0].moved_reason == (
        "target Wed 13 Jan 2027 full (no free chair) → Thu 14 Jan 2027 (window −3/+3)"
    )


def test_any_dose_uses_a_bed_the_same_day_before_moving() -> None:
    occupancy = Occupancy.from_busy(busy_all_day(WED, (1, 2, 3)))
    placed = run([dose(1, WED)], occupancy=occupancy).placed[0]
    assert (placed.day, placed.chair_id, placed.moved_reason) == (WED, 9, None)


def test_any_dose_prefers_a_chair_later_that_day_to_a_bed_now() -> None:
    chairs_busy = [(chair_id, at(WED, 8), at(WED, 13)) for chair_id in (1, 2, 3)]
    occupancy = Occupancy.from_busy(chairs_busy)
    result = run([dose(1, WED)], occupancy=occupancy, preferences=Preferences(start_time=time(9)))
    assert (result.placed[0].chair_id, local_start(result)) == (1, time(13, 15))


def test_bed_dose_only_in_a_bed() -> None:
    placed = run([dose(1, WED, chair_kind="bed")]).placed[0]
    assert (placed.day, placed.chair_id) == (WED, 9)


def test_bed_dose_unplaced_when_no_bed_is_free() -> None:
    occupancy = Occupancy.from_busy(
        [(9, at(day, 8), at(day, 17)) for day in (MON, TUE, WED, THU, FRI, NEXT_MON)]
    )
    result = run([dose(1, WED, chair_kind="bed")], occupancy=occupancy)
    assert result.placed == []
    assert result.unplaced[0].reason == "needs a bed: none free in window 10–16 Jan 2027"


def test_bed_dose_at_a_site_without_beds() -> None:
    result = run([dose(1, WED, chair_kind="bed")], site(chairs=CHAIRS[:3]))
    assert result.unplaced[0].reason == "needs a bed: the site has none in window 10–16 Jan 2027"


def test_no_free_chair_anywhere_in_window() -> None:
    days = [MON + timedelta(days=n) for n in range(10)]
    occupancy = Occupancy.from_busy([row for d in days for row in busy_all_day(d, (1, 2, 3, 9))])
    result = run([dose(1, WED)], occupancy=occupancy)
    assert result.unplaced[0].reason == "no free chair in window 10–16 Jan 2027"


# -- preferences --------------------------------------------------------------


def test_preferred_weekday_inside_window_wins_over_target() -> None:
    result = run([dose(1, TUE)], preferences=Preferences(weekday=3))
    assert result.placed[0].day == THU
    assert result.placed[0].moved_reason == (
        "preferred weekday Thu: target Tue 12 Jan 2027 → Thu 14 Jan 2027 (window −3/+3)"
    )


def test_preferred_weekday_outside_window_keeps_target() -> None:
    result = run([dose(1, TUE, 1, 1)], preferences=Preferences(weekday=4))
    assert (result.placed[0].day, result.placed[0].moved_reason) == (TUE, None)


def test_preferred_weekday_nearest_to_target_when_twice_in_window() -> None:
    result = run([dose(1, WED, 7, 7)], preferences=Preferences(weekday=0))
    assert result.placed[0].day == MON  # Mon 11 is 2 days away, Mon 18 is 5


def test_preferred_start_time_when_free() -> None:
    result = run([dose(1, WED)], preferences=Preferences(start_time=time(10, 30)))
    assert local_start(result) == time(10, 30)


def test_preferred_start_time_taken_goes_to_nearest_slot_tie_later() -> None:
    # Two starts already at 10:30 fill that slot; 10:15 and 10:45 tie -> 10:45.
    occupancy = Occupancy.from_busy(starts=[at(WED, 10, 30)] * 2)
    preferences = Preferences(start_time=time(10, 30))
    result = run([dose(1, WED)], occupancy=occupancy, preferences=preferences)
    assert local_start(result) == time(10, 45)
    assert result.placed[0].moved_reason is None  # same day: not a move


def test_preferred_start_time_before_opening_takes_opening() -> None:
    result = run([dose(1, WED)], preferences=Preferences(start_time=time(6)))
    assert local_start(result) == time(8)


@pytest.mark.parametrize(("busy", "expected_chair"), [((), 3), ((3,), 1)])
def test_preferred_chair_else_first_free_by_label(
    busy: tuple[int, ...], expected_chair: int
) -> None:
    occupancy = Occupancy.from_busy(busy_all_day(WED, busy))
    result = run([dose(1, WED)], occupancy=occupancy, preferences=Preferences(chair_id=3))
    assert (result.placed[0].day, result.placed[0].chair_id) == (WED, expected_chair)


def test_preferred_chair_of_wrong_kind_is_ignored_for_a_bed_dose() -> None:
    result = run([dose(1, WED, chair_kind="bed")], preferences=Preferences(chair_id=1))
    assert result.placed[0].chair_id == 9


# -- chair time, turnover, capacity, patient -----------------------------------


@pytest.mark.parametrize(
    ("busy_from", "busy_until", "expected_start"),
    [
        (time(8), time(10), time(10, 15)),  # turnover after the existing appointment
        (time(10, 15), time(12), time(8)),  # ends 10:00, cleaned by 10:15: back-to-back
        (time(10), time(12), time(12, 15)),  # 08:00 would end 10:00: no time to clean
    ],
)
def test_turnover_separates_appointments_in_a_chair(
    busy_from: time, busy_until: time, expected_start: time
) -> None:
    busy = (1, local_to_utc(WED, busy_from, BERLIN), local_to_utc(WED, busy_until, BERLIN))
    result = run([dose(1, WED)], site(chairs=CHAIRS[:1]), Occupancy.from_busy([busy]))
    assert (result.placed[0].day, local_start(result)) == (WED, expected_start)


def test_chair_time_must_end_by_closing_but_turnover_may_run_past() -> None:
    occupancy = Occupancy.from_busy([(1, at(WED, 8), at(WED, 14, 45))])
    result = run([dose(1, WED)], site(chairs=CHAIRS[:1]), occupancy)
    placed = result.placed[0]
    assert (placed.day, placed.end, placed.blocked_until) == (WED, at(WED, 17), at(WED, 17, 15))


def test_chair_time_past_closing_moves_the_dose() -> None:
    occupancy = Occupancy.from_busy([(1, at(WED, 8), at(WED, 15))])
    result = run([dose(1, WED)], site(chairs=CHAIRS[:1]), occupancy)
    assert result.placed[0].day == THU


def test_chair_time_longer_than_any_day_is_unplaced() -> None:
    result = run([dose(1, WED, infusion_minutes=600)])
    assert result.unplaced[0].reason == (
        "chair time 660 min does not fit the opening hours in window 10–16 Jan 2027"
    )


@pytest.mark.parametrize(
    ("limit", "existing_starts", "expected"),
    [(1, 1, time(8, 15)), (2, 1, time(8)), (2, 2, time(8, 15)), (3, 2, time(8))],
)
def test_start_capacity_per_slot(limit: int, existing_starts: int, expected: time) -> None:
    # A start at 08:05 (moved by hand) counts in the 08:00 slot.
    occupancy = Occupancy.from_busy(starts=[at(WED, 8, 5)] * existing_starts)
    result = run([dose(1, WED)], site(max_starts_per_slot=limit), occupancy)
    assert local_start(result) == expected


def test_no_start_capacity_at_all_is_unplaced() -> None:
    result = run([dose(1, WED)], site(max_starts_per_slot=0))
    assert result.unplaced[0].reason == (
        "every start slot full (0 per 15 min) in window 10–16 Jan 2027"
    )


def test_patient_busy_elsewhere_starts_when_they_are_free() -> None:
    occupancy = Occupancy.from_busy(patient_busy=[(PATIENT, at(WED, 7), at(WED, 12))])
    assert local_start(run([dose(1, WED)], occupancy=occupancy)) == time(12)


def test_other_patients_do_not_block() -> None:
    occupancy = Occupancy.from_busy(patient_busy=[(OTHER_PATIENT, at(WED, 7), at(WED, 17))])
    assert local_start(run([dose(1, WED)], occupancy=occupancy)) == time(8)


def test_patient_busy_all_window_is_unplaced() -> None:
    occupancy = Occupancy.from_busy(patient_busy=[(PATIENT, at(MON, 0), at(NEXT_MON, 23))])
    result = run([dose(1, WED)], occupancy=occupancy)
    assert result.unplaced[0].reason == (
        "patient booked elsewhere at every free time in window 10–16 Jan 2027"
    )


# -- series order and multi-day courses ----------------------------------------


def test_later_dose_never_on_or_before_an_earlier_placed_dose() -> None:
    calendar = site(closures=frozenset({WED, THU}))
    result = run([dose(1, WED, 0, 5), dose(2, THU, 3, 4)], calendar)
    assert [p.day for p in result.placed] == [FRI, NEXT_MON]
    assert result.placed[1].moved_reason == (
        "target Thu 14 Jan 2027 not after the previous dose on Fri 15 Jan 2027"
        " → Mon 18 Jan 2027 (window −3/+4)"
    )


def test_later_dose_with_no_day_after_the_previous_is_unplaced() -> None:
    calendar = site(closures=frozenset({WED}))
    result = run([dose(1, WED, 0, 2), dose(2, THU, 1, 0)], calendar)
    assert [p.day for p in result.placed] == [THU]
    assert result.unplaced[0].reason == (
        "no day in window 13–14 Jan 2027 after the previous dose on Thu 14 Jan 2027"
    )


def test_course_on_consecutive_days_keeps_time_and_chair() -> None:
    result = run(course(MON, 5), preferences=Preferences(start_time=time(9)))
    assert [p.day for p in result.placed] == [MON, TUE, WED, THU, FRI]
    assert {p.chair_id for p in result.placed} == {1}
    assert {utc_to_local(p.start, BERLIN).time() for p in result.placed} == {time(9)}


def test_course_keeps_first_day_chair_and_time_without_preferences() -> None:
    occupancy = Occupancy.from_busy([(chair_id, at(MON, 8), at(MON, 11)) for chair_id in (1, 3)])
    result = run(course(MON, 3), occupancy=occupancy)
    chair_and_time = {(p.chair_id, utc_to_local(p.start, BERLIN).time()) for p in result.placed}
    assert chair_and_time == {(2, time(8))}


def test_course_interrupted_by_closure_moves_whole() -> None:
    result = run(course(MON, 5), site(closures=frozenset({WED})))
    assert [p.day for p in result.placed] == [NEXT_MON + timedelta(days=n) for n in range(5)]
    assert result.placed[0].moved_reason == (
        "target Mon 11 Jan 2027: course day Wed 13 Jan 2027 closed → Mon 18 Jan 2027 (window −0/+7)"
    )
    assert result.unplaced == []


def test_course_that_fits_nowhere_is_unplaced_whole() -> None:
    result = run(course(MON, 5, after=3), site(closures=frozenset({WED})))
    assert result.placed == []
    assert [u.target.number for u in result.unplaced] == [1, 2, 3, 4, 5]
    assert {u.reason for u in result.unplaced} == {
        "no 5 consecutive open days starting in window 11–14 Jan 2027"
    }


def test_course_with_one_full_day_moves_whole() -> None:
    occupancy = Occupancy.from_busy(busy_all_day(WED, (1, 2, 3, 9)))
    result = run(course(MON, 3, after=10), occupancy=occupancy)
    # Thu/Fri starts would run into the weekend, so the course goes to Mon-Wed.
    assert [p.day for p in result.placed] == [NEXT_MON + timedelta(days=n) for n in range(3)]
    assert result.placed[0].moved_reason == (
        "target Mon 11 Jan 2027: course day Wed 13 Jan 2027 full (no free chair)"
        " → Mon 18 Jan 2027 (window −0/+10)"
    )


def test_weekly_nine_oclock_series_stays_nine_across_clock_change() -> None:
    mondays = [date(2027, 3, 15) + timedelta(weeks=n) for n in range(4)]
    targets = [dose(n + 1, day, 0, 2) for n, day in enumerate(mondays)]
    result = run(targets, preferences=Preferences(start_time=time(9)))
    assert [local_start(result, n) for n in range(4)] == [time(9)] * 4
    assert [p.start.hour for p in result.placed] == [8, 8, 7, 7]


# -- minimum gaps to earlier doses (min_days_after) ---------------------------


# Efgartigimod-like: cycle 2 starts >= 50 days after cycle 1 started; its target
# is exactly 50 days on, Tue 2 Mar 2027, and its earliest is that target.
MAR = {n: date(2027, 3, n) for n in range(1, 6)}
GAP = "must be ≥ 50 days after dose 1 placed on Wed 13 Jan 2027"
TOO_CLOSE = f"target Tue 2 Mar 2027 too close: {GAP} →"


@pytest.mark.parametrize(
    ("closed", "window", "full", "cycle_1", "cycle_2", "reason"),
    [
        # Cycle 1 on its target: the gap holds on cycle 2's target.
        (set(), (0, 3), (), MON, MAR[2], None),
        # Cycle 1 pushed +2 by a closure: cycle 2 moves at least 2 later too,
        ({MON, TUE}, (0, 3), (), WED, MAR[4], f"{TOO_CLOSE} Thu 4 Mar 2027 (window −0/+3)"),
        # ... even where its window reaches earlier than the gap.
        ({MON, TUE, MAR[4]}, (3, 3), (), WED, MAR[5], f"{TOO_CLOSE} Fri 5 Mar 2027 (window −3/+3)"),
        # Too tight a window, or no usable day left in it: unplaced, saying why.
        ({MON, TUE}, (0, 1), (), WED, None, f"{GAP}: no day left in window 2–3 Mar 2027"),
        ({MON, TUE, MAR[4], MAR[5]}, (0, 3), (), WED, None,
         f"{GAP}: no open day left in window 2–5 Mar 2027"),
        ({MON, TUE}, (0, 3), (MAR[4], MAR[5]), WED, None,
         f"{GAP}: no free chair on every day left in window 2–5 Mar 2027"),
        # Cycle 1 unplaced: the gap counts from its target date (so not Mon 1 Mar).
        ({MON, TUE, WED, THU, MAR[2], MAR[3]}, (3, 3), (), None, MAR[4],
         "target Tue 2 Mar 2027 closed → Thu 4 Mar 2027 (window −3/+3)"),
    ],
)  # fmt: skip
def test_min_days_after_counts_from_the_placed_earlier_dose(
    closed: set[date],
    window: tuple[int, int],
    full: tuple[date, ...],
    cycle_1: date | None,
    cycle_2: date | None,
    reason: str | None,
) -> None:
    second = replace(dose(2, MON + timedelta(days=50), *window), min_days_after=((1, 50),))
    rows = [row for day in full for row in busy_all_day(day, (1, 2, 3, 9))]
    calendar, occupancy = site(closures=frozenset(closed)), Occupancy.from_busy(rows)
    result = run([dose(1, MON, 0, 3), second], calendar, occupancy)
    outcomes = {p.target.number: (p.day, p.moved_reason) for p in result.placed}
    outcomes |= {u.target.number: (None, u.reason) for u in result.unplaced}
    assert outcomes[1][0] == cycle_1
    assert outcomes[2] == (cycle_2, reason)


def test_min_days_after_a_dose_not_in_the_call_is_left_to_earliest() -> None:
    alone = replace(dose(2, MAR[2]), min_days_after=((1, 50),))  # dose 1 was given already
    result = run([alone], site(closures=frozenset({MAR[2], MAR[3]})))
    assert result.placed[0].day == MAR[1]


def alemtuzumab_like(course_2_after: int) -> list[DoseTarget]:
    """Build course 1 (5 days from MON) and course 2 (3 days, >= 365 days after dose 1)."""
    first_day = MON + timedelta(days=365)  # Tue 11 Jan 2028
    course_2 = [
        replace(
            dose(6 + n, first_day + timedelta(days=n), 0, course_2_after, course=2, course_day=n,
                 course_days=3),
            min_days_after=((1, 365), (5, 1)) if n == 0 else ((5 + n, 1),),
        )
        for n in range(3)
    ]  # fmt: skip
    course_1 = course(MON, 5)
    course_1[1:] = [replace(d, min_days_after=((d.number - 1, 1),)) for d in course_1[1:]]
    return course_1 + course_2


@pytest.mark.parametrize(
    ("course_2_after", "expected_days", "reason"),
    [
        (7, [date(2028, 1, 18), date(2028, 1, 19), date(2028, 1, 20)],
         "target Tue 11 Jan 2028 too close: must be ≥ 365 days after dose 1 placed on"
         " Mon 18 Jan 2027 → Tue 18 Jan 2028 (window −0/+7)"),
        (5, [], "course of 3 days: must be ≥ 365 days after dose 1 placed on Mon 18 Jan 2027:"
         " no day left in window 11–16 Jan 2028"),
    ],
)  # fmt: skip
def test_course_2_counts_from_where_course_1_started(
    course_2_after: int, expected_days: list[date], reason: str
) -> None:
    # A closure on Wed moves course 1 to Mon 18-Fri 22 Jan 2027.
    result = run(alemtuzumab_like(course_2_after), site(closures=frozenset({WED})))
    assert [p.day for p in result.placed][:5] == [NEXT_MON + timedelta(days=n) for n in range(5)]
    assert [p.day for p in result.placed][5:] == expected_days
    if expected_days:
        assert result.placed[5].moved_reason == reason
        assert [p.moved_reason for p in result.placed[6:]] == [reason, reason]
    else:
        assert [(u.target.number, u.reason) for u in result.unplaced] == [
            (number, reason) for number in (6, 7, 8)
        ]


def test_course_whose_own_days_break_a_gap_raises() -> None:
    days = course(MON, 2)
    days[1] = replace(days[1], min_days_after=((1, 2),))
    with pytest.raises(ValueError, match="under 2 days after dose 1 of the same course"):
        run(days)


# -- occupancy, determinism, input --------------------------------------------


def test_place_does_not_change_the_occupancy_passed_in() -> None:
    occupancy = Occupancy()
    run([dose(1, WED)], occupancy=occupancy)
    assert occupancy.chair_free(1, at(WED, 8), at(WED, 17))
    assert occupancy.starts_between(at(WED, 0), at(WED, 23)) == 0


def test_same_input_same_output() -> None:
    targets = [dose(n, MON + timedelta(weeks=n), 3, 3) for n in range(1, 6)]
    occupancy = Occupancy.from_busy(busy_all_day(date(2027, 1, 25), (1, 3)))
    assert run(targets, occupancy=occupancy) == run(targets, occupancy=occupancy)


def test_unknown_chair_kind_on_a_target_raises() -> None:
    with pytest.raises(ValueError, match="chair_kind"):
        run([dose(1, WED, chair_kind="sofa")])
