"""Plan a regimen's doses: target dates, windows, amounts and chair minutes.

Pure: no Flask, no database, no clock. Re-planning after doses were given
late, early or missed is the same call with ``history`` (protocols §10):

- fixed courses (``regimen.courses``) count from the actual day 0;
- a repeated course counts from the actual start of the previous course
  (for single-day courses: the previous dose), so a late dose shifts every
  later one by the same delay;
- the days of a course count from that course's actual start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import count
from typing import Iterator, Sequence

from clinic.domain.regimens import (
    CourseSpec,
    PlanningError,
    Regimen,
    check_measures,
    default_window,
    dose_amount,
)
from clinic.domain.targets import DoseTarget, Measures

#: how far an open-ended regimen is planned when the caller gives no limit
DEFAULT_HORIZON_DAYS = 365


@dataclass(frozen=True)
class DoseSlot:
    """One dose's place in a regimen, before any date is known."""

    number: int
    course_index: int
    member: int  # 0-based position of the dose inside its course
    course: CourseSpec
    repeated: bool  # True for a course made by the repeat rule
    #: nominal days since the previous course start (course starts) or since
    #: the previous dose of the course (later doses); picks the default window
    interval: int


def _course_interval(regimen: Regimen, index: int) -> int:
    """Return the nominal days from the previous course start (course 0: to the next)."""
    if index == 0:
        if regimen.course_at(1) is not None:
            return _course_interval(regimen, 1)
        days = regimen.courses[0].days
        return days[1] if len(days) > 1 else 0
    if index < len(regimen.courses):
        return regimen.courses[index].start_day - regimen.courses[index - 1].start_day
    assert regimen.repeat is not None  # course_at gave a course past the fixed ones
    return regimen.repeat.every_days


def dose_slots(regimen: Regimen) -> Iterator[DoseSlot]:
    """Yield every dose of the regimen in order (forever if it is open-ended)."""
    number = 0
    for index in count():
        course = regimen.course_at(index)
        if course is None:
            return
        start_interval = _course_interval(regimen, index)
        for member, offset in enumerate(course.days):
            number += 1
            interval = start_interval if member == 0 else offset - course.days[member - 1]
            yield DoseSlot(number, index, member, course, index >= len(regimen.courses), interval)


def _days(number: int) -> timedelta:
    return timedelta(days=number)


class _Planner:
    """Walks the slots, remembering the actual or planned dates seen so far."""

    def __init__(self, regimen: Regimen, start: date, measures: Measures, given: int) -> None:
        self.regimen, self.start, self.measures, self.given = regimen, start, measures, given
        self.previous: tuple[int, date] | None = None  # (number, date) of the dose before
        self.course_starts: dict[int, tuple[int, date]] = {}  # course index -> (number, date)
        self.block_start: DoseTarget | None = None  # planned first day of the current course
        self.amounts: dict[int, tuple[float, str]] = {}

    def record(self, slot: DoseSlot, day: date, target: DoseTarget | None = None) -> None:
        """Remember a dose's date: given (from history) or planned (``target``)."""
        self.previous = (slot.number, day)
        if slot.member == 0:
            self.course_starts[slot.course_index] = (slot.number, day)
            self.block_start = target

    def nominal(self, slot: DoseSlot) -> date:
        """Return the date the schedule asks for, from the dates that anchor it."""
        if slot.member > 0:
            return self.course_starts[slot.course_index][1] + _days(slot.course.days[slot.member])
        if not slot.repeated:
            return self.start + _days(slot.course.start_day)
        assert self.regimen.repeat is not None
        return self.course_starts[slot.course_index - 1][1] + _days(self.regimen.repeat.every_days)

    def floor(self, slot: DoseSlot) -> tuple[date | None, tuple[tuple[int, int], ...]]:
        """Return the first day the minimum gaps allow, and the planned doses they hang on."""
        bounds: list[tuple[int, date, int]] = []  # (number, date, days)
        if self.previous is not None:
            bounds.append((*self.previous, 1))
        for gap in self.regimen.min_gaps:
            if gap.phases and slot.course.phase not in gap.phases:
                continue
            if gap.between == "doses" and self.previous is not None:
                bounds.append((*self.previous, gap.days))
            elif gap.between == "courses" and slot.member == 0 and slot.course_index > 0:
                bounds.append((*self.course_starts[slot.course_index - 1], gap.days))
        if not bounds:
            return None, ()
        anchors: dict[int, int] = {}
        for number, _day, days in bounds:
            # Given doses are fixed: their gaps are already in ``floor``.
            if number > self.given:
                anchors[number] = max(anchors.get(number, 0), days)
        return max(day + _days(days) for _n, day, days in bounds), tuple(sorted(anchors.items()))

    def window(self, slot: DoseSlot, target: date, floor: date | None) -> tuple[date, date]:
        """Return (earliest, latest) for a dose whose target is settled."""
        block = self.block_start
        if slot.member > 0 and slot.course.consecutive and block is not None:
            # A consecutive-day course moves as one block: each day keeps the
            # first day's window, shifted by its course day.
            offset = _days(slot.course.days[slot.member])
            return block.earliest + offset, block.latest + offset
        window = slot.course.window or self.regimen.window or default_window(slot.interval)
        # The first dose never comes before the start date staff chose.
        earliest = target - _days(0 if slot.number == 1 else window.early)
        if floor is not None and earliest < floor:
            earliest = floor
        return earliest, target + _days(window.late)

    def amount(self, course: CourseSpec) -> tuple[float, str]:
        """Return the (cached) amount and unit of one infusion of ``course``."""
        key = id(course)
        if key not in self.amounts:
            self.amounts[key] = dose_amount(
                course.dose, self.measures, len(course.days), self.regimen.code
            )
        return self.amounts[key]

    def minutes(self, slot: DoseSlot) -> tuple[int, int]:
        """Return (infusion, observation) minutes for the dose."""
        regimen, course = self.regimen, slot.course
        infusion = course.infusion_minutes or regimen.infusion_minutes
        if slot.number == 1 and regimen.first_infusion_minutes:
            infusion = regimen.first_infusion_minutes
        observation = regimen.observation_minutes
        if course.observation_minutes is not None:
            observation = course.observation_minutes
        through = regimen.observation_through_dose
        return infusion, 0 if through is not None and slot.number > through else observation

    def plan(self, slot: DoseSlot) -> DoseTarget:
        """Return the planned dose for ``slot`` and remember it."""
        floor, anchors = self.floor(slot)
        target = self.nominal(slot)
        if floor is not None and target < floor:
            target = floor
        earliest, latest = self.window(slot, target, floor)
        amount, unit = self.amount(slot.course)
        infusion, observation = self.minutes(slot)
        block = slot.course.consecutive
        planned = DoseTarget(
            number=slot.number,
            phase=slot.course.phase,
            target_date=target,
            earliest=earliest,
            latest=latest,
            amount=amount,
            unit=unit,
            infusion_minutes=infusion,
            observation_minutes=observation,
            course=slot.course_index + 1,
            course_day=slot.course.days[slot.member] if block else 0,
            course_days=len(slot.course.days) if block else 1,
            chair_kind=self.regimen.chair_kind,
            min_days_after=anchors,
        )
        self.record(slot, target, planned)
        return planned


def _check_history(history: Sequence[date]) -> None:
    for index, day in enumerate(history):
        # A datetime is a date too, but cannot be compared with one.
        if not isinstance(day, date) or isinstance(day, datetime):
            raise PlanningError(f"history[{index}] must be a date, got {day!r}")
        if index and day <= history[index - 1]:
            raise PlanningError(
                f"history must be in order, one dose a day: history[{index}] {day} "
                f"is not after {history[index - 1]}"
            )


def plan_doses(
    regimen: Regimen,
    day0: date,
    measures: Measures,
    history: Sequence[date] = (),
    horizon: date | None = None,
    max_doses: int | None = None,
) -> list[DoseTarget]:
    """Return the doses still to give, numbered from len(history) + 1.

    ``history`` holds the actual dates of the first doses, in order; the
    actual day 0 is ``history[0]`` when given, else ``day0``. A finite
    regimen ends by itself; an open-ended one stops at ``horizon`` (default
    ``day0`` + 365 days, inclusive, unless ``max_doses`` is given). A course
    is planned whole or not at all: only its first day is held to the
    horizon. ``max_doses`` caps the number of doses returned.
    """
    check_measures(measures)
    _check_history(history)
    if max_doses is not None and max_doses < 0:
        raise PlanningError(f"max_doses must be 0 or more, got {max_doses}")
    if horizon is None and max_doses is None and regimen.open_ended:
        horizon = day0 + _days(DEFAULT_HORIZON_DAYS)
    planner = _Planner(regimen, history[0] if history else day0, measures, len(history))
    targets: list[DoseTarget] = []
    for slot in dose_slots(regimen):
        if slot.number <= len(history):
            planner.record(slot, history[slot.number - 1])
            continue
        if max_doses is not None and len(targets) >= max_doses:
            break
        try:
            target = planner.plan(slot)
        except OverflowError as error:
            raise PlanningError(f"{regimen.code}: the plan runs past the last date") from error
        if horizon is not None and slot.member == 0 and target.target_date > horizon:
            break
        targets.append(target)
    return targets
