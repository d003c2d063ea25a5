"""Placement properties over random calendars, targets and existing bookings.

Random series of hand-made targets, then real plans from the catalog
(``plan_doses``) around random closures and bookings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.domain.calendar import Chair, SiteCalendar, local_to_utc
from clinic.domain.intervals import overlaps
from clinic.domain.placement import Occupancy, Placement, Preferences, place
from clinic.domain.planning import plan_doses
from clinic.domain.regimens import load_catalog, parse_regimen
from clinic.domain.targets import DoseTarget, Measures

PATIENT = 1
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")
# Starts near both 2027 European clock changes, so some cases cross one.
FIRST_DAYS = (date(2027, 1, 4), date(2027, 3, 22), date(2027, 10, 25))
HORIZON_DAYS = 60
CHAIR_KIND_MIX = ("chair", "chair", "chair", "bed")
LABELS = ("A", "B", "Chair 2", "Chair 10")
Busy = tuple[int, datetime, datetime]
Gaps = tuple[tuple[int, int], ...]
REGIMENS = {entry["code"]: parse_regimen(entry) for entry in load_catalog()}
# Minimum gaps from course starts (efgartigimod, alemtuzumab, rituximab RA), between
# doses (ocrelizumab), and multi-day courses (alemtuzumab, IVIG).
REAL_CODES = ("efgartigimod-mg", "alemtuzumab-ms", "ocrelizumab-ms", "ivig-dm", "rituximab-ra")
# Drawing a scenario costs more than checking it: a few tests each checking
# several properties keep the suite well under a minute.
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Scenario:
    calendar: SiteCalendar
    targets: list[DoseTarget]
    chair_busy: list[tuple[int, datetime, datetime]]
    patient_busy: list[tuple[int, datetime, datetime]]
    starts: list[datetime]
    preferences: Preferences

    def occupancy(self) -> Occupancy:
        return Occupancy.from_busy(self.chair_busy, self.patient_busy, self.starts)

    def run(self) -> Placement:
        return place(self.targets, self.calendar, self.occupancy(), PATIENT, self.preferences)


@st.composite
def calendars(draw: st.DrawFn, first_day: date) -> SiteCalendar:
    hours = {}
    for weekday in range(7):
        if draw(st.integers(0, 5)) > 0:  # most days open
            opens = draw(st.integers(6 * 4, 11 * 4))  # quarter hours
            closes = draw(st.integers(opens + 2, min(opens + 48, 24 * 4 - 1)))
            hours[weekday] = (time(opens // 4, opens % 4 * 15), time(closes // 4, closes % 4 * 15))
    offsets = draw(st.lists(st.integers(0, HORIZON_DAYS), max_size=8))
    kinds = draw(st.lists(st.sampled_from(CHAIR_KIND_MIX), min_size=1, max_size=6))
    chair_ids = draw(st.permutations(range(1, len(kinds) + 1)))
    return SiteCalendar(
        timezone=draw(st.sampled_from(ZONES)),
        hours=hours,
        closures=frozenset(first_day + timedelta(days=n) for n in offsets),
        slot_minutes=draw(st.sampled_from((10, 15, 30))),
        turnover_minutes=draw(st.sampled_from((0, 15, 30))),
        max_starts_per_slot=draw(st.sampled_from((0, 1, 1, 2, 2, 3))),
        chairs=tuple(
            Chair(chair_id, draw(st.sampled_from(LABELS)), kind)  # type: ignore[arg-type]
            for chair_id, kind in zip(chair_ids, kinds)
        ),
    )


@st.composite
def gaps_before(draw: st.DrawFn, targets: list[DoseTarget], day: date) -> Gaps:
    """Draw min_days_after pairs to earlier targets, about as long as their target gaps."""
    pairs: dict[int, int] = {}
    for _ in range(draw(st.integers(0, 2)) if targets else 0):
        earlier = targets[draw(st.integers(0, len(targets) - 1))]
        days = (day - earlier.target_date).days + draw(st.integers(-3, 3))
        pairs[earlier.number] = max(1, days)
    return tuple(sorted(pairs.items()))


@st.composite
def series(draw: st.DrawFn, first_day: date) -> list[DoseTarget]:
    targets: list[DoseTarget] = []
    day = first_day + timedelta(days=draw(st.integers(0, 6)))
    for course_number in range(1, draw(st.integers(1, 6)) + 1):
        gaps = draw(gaps_before(targets, day))
        days = draw(st.sampled_from((1, 1, 1, 1, 2, 3, 5)))
        before, after = draw(st.integers(0, 7)), draw(st.integers(0, 7))
        minutes = {
            "infusion_minutes": draw(st.integers(1, 24)) * 15,
            "observation_minutes": draw(st.sampled_from((0, 30, 60, 120))),
            "chair_kind": draw(st.sampled_from(("any", "any", "bed"))),
        }
        for course_day in range(days):
            target = day + timedelta(days=course_day)
            targets.append(
                DoseTarget(
                    number=len(targets) + 1, phase="p", target_date=target,
                    earliest=target - timedelta(days=before), latest=target + timedelta(days=after),
                    amount=1.0, unit="mg", course=course_number, course_day=course_day,
                    course_days=days, **minutes,  # type: ignore[arg-type]
                    # Later course days: one day after the day before, as planning does.
                    min_days_after=((len(targets), 1),) if course_day else gaps,
                )
            )  # fmt: skip
        day += timedelta(days=days + draw(st.integers(0, 10)))
    return targets


@st.composite
def busy_rows(draw: st.DrawFn, first_day: date, zone: str, max_id: int) -> list[Busy]:
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        day = first_day + timedelta(days=draw(st.integers(0, HORIZON_DAYS)))
        wall = time(draw(st.integers(5, 20)), draw(st.sampled_from((0, 15, 30, 45))))
        start = local_to_utc(day, wall, zone)
        minutes = draw(st.integers(15, 480))
        rows.append((draw(st.integers(1, max_id)), start, start + timedelta(minutes=minutes)))
    return rows


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    first_day = draw(st.sampled_from(FIRST_DAYS))
    calendar = draw(calendars(first_day))
    chair_busy = draw(busy_rows(first_day, calendar.timezone, len(calendar.chairs)))
    patient_busy = draw(busy_rows(first_day, calendar.timezone, 3))
    chair_ids = [chair.id for chair in calendar.chairs]
    return Scenario(
        calendar=calendar,
        targets=draw(series(first_day)),
        chair_busy=chair_busy,
        patient_busy=patient_busy,
        starts=[start for _, start, _ in chair_busy],
        preferences=Preferences(
            weekday=draw(st.none() | st.integers(0, 6)),
            start_time=draw(st.none() | st.builds(time, st.integers(0, 23), st.integers(0, 59))),
            chair_id=draw(st.none() | st.sampled_from(chair_ids)),
        ),
    )


def check_no_double_booking(scenario: Scenario, result: Placement) -> None:
    turnover = scenario.calendar.turnover
    placed = result.placed
    for dose in placed:
        for chair_id, start, end in scenario.chair_busy:
            if chair_id == dose.chair_id:  # turnover kept on both sides of existing rows
                assert not overlaps(dose.start - turnover, dose.blocked_until, start, end)
        for patient_id, start, end in scenario.patient_busy:
            assert patient_id != PATIENT or not overlaps(dose.start, dose.end, start, end)
    for index, first in enumerate(placed):
        for second in placed[index + 1 :]:
            assert not overlaps(first.start, first.end, second.start, second.end)  # one patient
            if first.chair_id == second.chair_id:
                assert not overlaps(
                    first.start, first.blocked_until, second.start, second.blocked_until
                )


def check_start_capacity(scenario: Scenario, result: Placement) -> None:
    all_starts = scenario.starts + [dose.start for dose in result.placed]
    for dose in result.placed:
        slot_end = dose.start + scenario.calendar.slot
        in_slot = sum(dose.start <= start < slot_end for start in all_starts)
        assert in_slot <= scenario.calendar.max_starts_per_slot


def check_inside_window_hours_and_open_days(scenario: Scenario, result: Placement) -> None:
    calendar = scenario.calendar
    chairs = {chair.id: chair for chair in calendar.chairs}
    for dose in result.placed:
        target = dose.target
        assert target.earliest <= dose.day <= target.latest
        assert dose.day not in calendar.closures and calendar.is_open(dose.day)
        assert calendar.local_date(dose.start) == dose.day
        opens, closes = calendar.open_interval(dose.day)  # type: ignore[misc]
        assert opens <= dose.start and dose.end <= closes
        assert dose.start in calendar.slot_starts(dose.day)
        assert dose.end - dose.start == timedelta(minutes=target.chair_minutes)
        assert dose.blocked_until == dose.end + calendar.turnover
        assert target.chair_kind != "bed" or chairs[dose.chair_id].kind == "bed"
        assert (dose.moved_reason is None) == (dose.day == target.target_date)
    days = [dose.day for dose in result.placed]
    assert days == sorted(set(days))  # later doses strictly after earlier ones


def check_every_target_accounted_for(scenario: Scenario, result: Placement) -> None:
    placed = [dose.target for dose in result.placed]
    unplaced = [dose.target for dose in result.unplaced]
    assert sorted(placed + unplaced, key=lambda t: t.number) == scenario.targets
    assert all(dose.reason for dose in result.unplaced)


def check_min_days_after(scenario: Scenario, result: Placement) -> None:
    """Every placed dose is at least its gaps after where the named doses ended up."""
    # An unplaced dose counts from its target date.
    where = {target.number: target.target_date for target in scenario.targets}
    where |= {dose.target.number: dose.day for dose in result.placed}
    for dose in result.placed:
        for number, days in dose.target.min_days_after:
            assert dose.day >= where[number] + timedelta(days=days), (dose, number, days)


def check_courses_never_split(result: Placement) -> None:
    placed_by_course: dict[int, list[date]] = {}
    for dose in result.placed:
        if dose.target.course_days > 1:
            placed_by_course.setdefault(dose.target.course, []).append(dose.day)
    for dose in result.unplaced:
        assert dose.target.course_days == 1 or dose.target.course not in placed_by_course
    for days in placed_by_course.values():
        assert days == [days[0] + timedelta(days=n) for n in range(len(days))]


@settings(max_examples=1000, deadline=None)
@given(scenarios())
def test_never_double_books_and_stays_inside_windows_and_hours(scenario: Scenario) -> None:
    result = scenario.run()
    check_no_double_booking(scenario, result)
    check_start_capacity(scenario, result)
    check_inside_window_hours_and_open_days(scenario, result)
    check_min_days_after(scenario, result)


@settings(max_examples=1000, deadline=None)
@given(scenarios())
def test_accounts_for_every_target_deterministically(scenario: Scenario) -> None:
    occupancy = scenario.occupancy()
    first = place(scenario.targets, scenario.calendar, occupancy, PATIENT, scenario.preferences)
    second = place(scenario.targets, scenario.calendar, occupancy, PATIENT, scenario.preferences)
    assert first == second  # and the first call left the occupancy as it was
    assert first == scenario.run()
    check_every_target_accounted_for(scenario, first)
    check_courses_never_split(first)


@st.composite
def near(draw: st.DrawFn, targets: list[DoseTarget], spread: int) -> date:
    """Draw a day a few days from a random target's date."""
    target = draw(st.sampled_from(targets))
    return target.target_date + timedelta(days=draw(st.integers(-spread, spread)))


@st.composite
def real_scenarios(draw: st.DrawFn) -> Scenario:
    """Draw a real plan of a catalog regimen, closures and bookings around its targets."""
    code = draw(st.sampled_from(REAL_CODES))
    day0 = draw(st.sampled_from(FIRST_DAYS)) + timedelta(days=draw(st.integers(0, 6)))
    measures = Measures(weight_kg=draw(st.integers(45, 140)), height_cm=170)
    targets = plan_doses(REGIMENS[code], day0, measures, max_doses=draw(st.integers(1, 14)))
    zone, closes = draw(st.sampled_from(ZONES)), draw(st.sampled_from((16, 18, 20)))
    open_days = [*range(5), *draw(st.sets(st.sampled_from((5, 6))))]  # weekends sometimes
    kinds = draw(st.lists(st.sampled_from(CHAIR_KIND_MIX), min_size=1, max_size=3))
    chairs = tuple(
        Chair(n + 1, f"Chair {n + 1}", kind)  # type: ignore[arg-type]
        for n, kind in enumerate(kinds)
    )
    calendar = SiteCalendar(
        timezone=zone,
        hours={weekday: (time(8), time(closes)) for weekday in open_days},
        closures=frozenset(draw(st.lists(near(targets, 4), max_size=12))),
        turnover_minutes=15,
        max_starts_per_slot=draw(st.integers(1, 2)),
        chairs=chairs,
    )
    chair_busy = [
        (draw(st.integers(1, len(chairs))), local_to_utc(day, time(8), zone),
         local_to_utc(day, time(draw(st.integers(9, 20))), zone))
        for day in draw(st.lists(near(targets, 3), max_size=12))
    ]  # fmt: skip
    return Scenario(
        calendar=calendar,
        targets=targets,
        chair_busy=chair_busy,
        patient_busy=[],
        starts=[start for _, start, _ in chair_busy],
        preferences=Preferences(weekday=draw(st.none() | st.integers(0, 4))),
    )


# 500 examples: the file stays under ~25 s; plans are cheap, drawing is not.
@settings(max_examples=500, deadline=None)
@given(real_scenarios())
def test_real_plans_keep_every_rule_and_minimum_gap(scenario: Scenario) -> None:
    result = scenario.run()
    assert result == scenario.run()
    check_every_target_accounted_for(scenario, result)
    check_no_double_booking(scenario, result)
    check_start_capacity(scenario, result)
    check_inside_window_hours_and_open_days(scenario, result)
    check_courses_never_split(result)
    check_min_days_after(scenario, result)
