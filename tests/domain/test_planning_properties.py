"""Hypothesis properties of dose planning, over every catalog regimen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.domain.planning import plan_doses
from clinic.domain.regimens import Regimen, load_catalog, parse_regimen
from clinic.domain.targets import DoseTarget, Measures

REGIMENS = {entry["code"]: parse_regimen(entry) for entry in load_catalog()}
CODES = sorted(REGIMENS)
FINITE = sorted(code for code, regimen in REGIMENS.items() if not regimen.open_ended)
REPEATING = sorted(code for code, regimen in REGIMENS.items() if regimen.repeat is not None)
PROPERTY = settings(max_examples=1000, deadline=None, database=None)


def total_doses(regimen: Regimen) -> int:
    """Return how many doses a finite regimen has."""
    count = regimen.course_count
    assert count is not None
    return sum(len(course.days) for course in map(regimen.course_at, range(count)) if course)


@dataclass(frozen=True)
class Case:
    """One planning call drawn by Hypothesis, and its result."""

    regimen: Regimen
    day0: date
    measures: Measures
    history: list[date]
    planned: list[DoseTarget]

    def dates(self) -> list[date]:
        """Return the given dates, then the planned targets."""
        return self.history + [target.target_date for target in self.planned]

    def courses(self) -> list[int]:
        """Return the course number of every dose, given or planned."""
        count = len(self.history) + len(self.planned)
        nominal = plan_doses(self.regimen, self.day0, self.measures, max_doses=count)
        return [target.course for target in nominal]


measures = st.builds(
    Measures,
    weight_kg=st.floats(40, 250, allow_nan=False),  # ravulizumab is for >= 40 kg
    height_cm=st.floats(140, 210, allow_nan=False),
)
days0 = st.dates(date(2020, 1, 1), date(2035, 12, 31))


@st.composite
def cases(draw: st.DrawFn, codes: list[str] = CODES) -> Case:
    """Draw a regimen, a patient, any history of actual dates and a limit; plan it."""
    regimen = REGIMENS[draw(st.sampled_from(codes))]
    day0, patient = draw(days0), draw(measures)
    limit = total_doses(regimen) if not regimen.open_ended else 30
    steps = draw(st.lists(st.integers(1, 400), max_size=limit))
    history: list[date] = []
    day = day0 + timedelta(days=draw(st.integers(-30, 30)))
    for step in steps:
        history.append(day)
        day += timedelta(days=step)
    max_doses = draw(st.none() | st.integers(0, 40))
    horizon = draw(st.none() | st.integers(0, 800).map(lambda n: day + timedelta(days=n)))
    planned = plan_doses(regimen, day0, patient, history, horizon=horizon, max_doses=max_doses)
    return Case(regimen, day0, patient, history, planned)


@PROPERTY
@given(cases())
def test_targets_strictly_increase_and_numbers_continue(case: Case) -> None:
    dates = case.dates()
    assert all(later > earlier for earlier, later in zip(dates, dates[1:]))
    first = len(case.history) + 1
    assert [t.number for t in case.planned] == list(range(first, first + len(case.planned)))


@PROPERTY
@given(cases())
def test_windows_hold_the_target_and_follow_the_previous_dose(case: Case) -> None:
    previous_date = case.history[-1] if case.history else None
    previous_earliest = None
    starts = {t.course for t in case.planned if t.course_day == 0}
    for target in case.planned:
        assert target.earliest <= target.target_date <= target.latest
        # Days 2..n of a consecutive course planned here move with its first
        # day as one block; every other dose comes after the previous one.
        block_day = target.course_days > 1 and target.course_day > 0 and target.course in starts
        if previous_date is not None and not block_day:
            assert target.earliest > previous_date
        if previous_earliest is not None:
            assert target.earliest > previous_earliest
        previous_date, previous_earliest = target.target_date, target.earliest


@PROPERTY
@given(cases())
def test_minimum_gaps_hold_for_any_history(case: Case) -> None:
    dates, courses = case.dates(), case.courses()
    course_start = {}
    for index, course in enumerate(courses):
        course_start.setdefault(course, dates[index])
    offset = len(case.history)
    for index, target in enumerate(case.planned, start=offset):
        for gap in case.regimen.min_gaps:
            if gap.phases and target.phase not in gap.phases:
                continue
            if gap.between == "doses" and index > 0:
                anchor = dates[index - 1]
            elif gap.between == "courses" and courses[index] > 1 and (
                index == 0 or courses[index - 1] != courses[index]
            ):
                anchor = course_start[courses[index] - 1]
            else:
                continue
            assert (target.earliest - anchor).days >= gap.days
        for number, days in target.min_days_after:
            assert offset < number < target.number
            assert (target.target_date - dates[number - 1]).days >= days


@PROPERTY
@given(
    code=st.sampled_from(REPEATING),
    day0=days0,
    patient=measures,
    pick=st.integers(0, 30),
    delay=st.integers(1, 60),
    following=st.integers(1, 20),
)
def test_a_late_maintenance_dose_shifts_the_next_ones_by_the_delay(
    code: str, day0: date, patient: Measures, pick: int, delay: int, following: int
) -> None:
    regimen = REGIMENS[code]
    nominal = plan_doses(regimen, day0, patient, max_doses=40)
    # Course starts whose next course comes from the repeat rule.
    candidates = [
        i for i, t in enumerate(nominal)
        if t.course >= len(regimen.courses) and (i == 0 or nominal[i - 1].course != t.course)
    ]  # fmt: skip
    if not candidates:
        return  # a finite regimen that ends before its repeat (not in the catalog)
    late_index = candidates[pick % len(candidates)]
    on_time = [t.target_date for t in nominal[: late_index + 1]]
    late = on_time[:-1] + [on_time[-1] + timedelta(days=delay)]
    expected = plan_doses(regimen, day0, patient, on_time, max_doses=following)
    replanned = plan_doses(regimen, day0, patient, late, max_doses=following)
    shift = timedelta(days=delay)
    assert [(t.target_date, t.earliest, t.latest) for t in replanned] == [
        (t.target_date + shift, t.earliest + shift, t.latest + shift) for t in expected
    ]


@PROPERTY
@given(cases(FINITE))
def test_finite_regimens_end(case: Case) -> None:
    total = total_doses(case.regimen)
    assert len(case.history) + len(case.planned) <= max(total, len(case.history))
    unlimited = plan_doses(case.regimen, case.day0, case.measures, case.history)
    assert len(case.history) + len(unlimited) == max(total, len(case.history))


@PROPERTY
@given(code=st.sampled_from(CODES), day0=days0, patient=measures, days=st.integers(0, 800))
def test_open_ended_plans_stop_at_the_horizon(
    code: str, day0: date, patient: Measures, days: int
) -> None:
    regimen, horizon = REGIMENS[code], day0 + timedelta(days=days)
    planned = plan_doses(regimen, day0, patient, horizon=horizon)
    longer = plan_doses(regimen, day0, patient, horizon=horizon + timedelta(days=1000))
    assert longer[: len(planned)] == planned
    # Only a course's first dose is held to the horizon; the course is kept whole.
    firsts = [t for i, t in enumerate(planned) if i == 0 or planned[i - 1].course != t.course]
    assert all(t.target_date <= horizon for t in firsts)
    if len(longer) > len(planned):
        following = longer[len(planned)]
        assert following.target_date > horizon and following.course not in {
            t.course for t in planned
        }
