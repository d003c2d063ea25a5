"""Place planned doses into a site's chairs and start slots (protocols §10).

The caller loads what is already booked into an ``Occupancy``; ``place``
books into a fork of it and leaves it unchanged. Rules where §10 is silent:

- Day order: the preferred weekday inside the window first, then the target
  date, then the nearest day; equally near earlier and later -> later.
- A dose never starts on or before the day of the previous placed dose.
- ``min_days_after`` gaps count from the earlier dose's placed day (its target
  date if unplaced); a gap to a dose not in the call is left to ``earliest``.
- A course goes on consecutive calendar days that are all open (a closed day
  inside it, weekend or holiday, moves the whole course). Later course days
  prefer the first day's chair and start time.
- Start time: the preferred one, else the nearest slot (tie -> later); with
  no preference the earliest slot. Only the chair time (infusion +
  observation) must end by closing; the turnover may run past it.
- Chair: the preferred one first, then by label in natural order. A dose that
  does not need a bed uses a bed only on a day when no chair fits at any time.
- ``moved_reason`` is set only when the day differs from the target date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence

from clinic.domain.calendar import (
    WEEKDAY_NAMES,
    Chair,
    SiteCalendar,
    format_day,
    format_range,
    utc_to_local,
)
from clinic.domain.occupancy import Busy, Occupancy
from clinic.domain.targets import DoseTarget

# Occupancy and Busy moved to clinic.domain.occupancy and are re-exported here.
__all__ = ["Busy", "Occupancy", "PlacedDose", "Placement", "Preferences", "UnplacedDose", "place"]

TARGET_CHAIR_KINDS = ("any", "bed")


@dataclass(frozen=True)
class Preferences:
    """What the patient usually has: weekday (0 = Monday), local start time, chair."""

    weekday: int | None = None
    start_time: time | None = None
    chair_id: int | None = None


@dataclass(frozen=True)
class PlacedDose:
    """A dose booked in a chair: ``end`` is the stored chair time, turnover follows."""

    target: DoseTarget
    day: date
    chair_id: int
    start: datetime
    end: datetime
    blocked_until: datetime
    moved_reason: str | None = None


@dataclass(frozen=True)
class UnplacedDose:
    """A dose that fits nowhere in its window, and why."""

    target: DoseTarget
    reason: str


@dataclass(frozen=True)
class Placement:
    """The outcome of ``place``: every target is in exactly one list, by number."""

    placed: list[PlacedDose]
    unplaced: list[UnplacedDose]


# Why a day could not take a dose, weakest first: the strongest one seen is
# reported, as it is the one a person could act on.
HOURS, CAPACITY, PATIENT, CHAIR, NO_CHAIRS = range(5)
CLOSED = -1  # a closed day is not "full": kept apart from the ranking
Outcome = tuple[int, date]  # (why not, which day of the unit)
Span = tuple[date, date]  # first and last possible start day
_Booked = list[PlacedDose] | str  # a unit's placed doses, or why it fits nowhere


@dataclass(frozen=True)
class _Spot:
    chair_id: int
    start: datetime


@dataclass(frozen=True)
class _Gap:
    """A minimum gap to an earlier dose, as the first start day it allows a unit."""

    start: date
    days: int
    number: int
    anchor: date  # the earlier dose's placed day, or its target date if unplaced
    placed: bool

    def text(self) -> str:
        """Say the gap in staff words."""
        where = "placed on" if self.placed else "(unplaced), target"
        day = format_day(self.anchor)
        return f"must be ≥ {self.days} days after dose {self.number} {where} {day}"


@dataclass(frozen=True)
class _Limits:
    """What bounds a unit's start day: the days left, the previous placed day, a gap."""

    span: Span
    after: date | None
    gap: _Gap | None  # only a gap that starts the span later than anything else


@dataclass(frozen=True)
class _Unit:
    """Doses placed together: one single dose, or every day of one course."""

    targets: tuple[DoseTarget, ...]
    offsets: tuple[int, ...]  # days after the unit's first day

    def start_range(self, after: date | None) -> Span:
        """Return the first and last start day that keeps every day in its window."""
        pairs = list(zip(self.targets, self.offsets))
        first = max(t.earliest - timedelta(days=off) for t, off in pairs)
        last = min(t.latest - timedelta(days=off) for t, off in pairs)
        if after is not None:
            first = max(first, after + timedelta(days=1))
        return first, last

    def limits(self, after: date | None, gap: _Gap | None) -> _Limits:
        """Return the start days the windows, the previous dose and a gap leave."""
        first, last = self.start_range(after)
        if gap is None or gap.start <= first:
            return _Limits((first, last), after, None)
        return _Limits((gap.start, last), after, gap)

    def gap(self, anchors: dict[int, tuple[date, bool]]) -> _Gap | None:
        """Return the gap to a dose outside the unit that allows the latest start."""
        inside = {target.number for target in self.targets}
        gaps = [
            _Gap(day + timedelta(days=days - offset), days, number, day, placed)
            for target, offset in zip(self.targets, self.offsets)
            for number, days in target.min_days_after
            if number not in inside and number in anchors
            for day, placed in [anchors[number]]
        ]
        return max(gaps, key=lambda gap: (gap.start, gap.days, -gap.number), default=None)


def _units(targets: Sequence[DoseTarget]) -> list[_Unit]:
    """Group the days of each multi-day course; order the units by dose number."""
    groups: dict[tuple[bool, int], list[DoseTarget]] = {}
    for position, target in enumerate(targets):
        if target.chair_kind not in TARGET_CHAIR_KINDS:
            raise ValueError(f"dose {target.number}: unknown chair_kind {target.chair_kind!r}")
        key = (True, target.course) if target.course_days > 1 else (False, position)
        groups.setdefault(key, []).append(target)
    units = []
    for group in groups.values():
        group.sort(key=lambda target: (target.course_day, target.number))
        offsets = tuple(target.course_day - group[0].course_day for target in group)
        if len(set(offsets)) != len(offsets):
            raise ValueError(f"course {group[0].course}: two doses on one course day")
        _check_course_gaps(group)
        units.append(_Unit(tuple(group), offsets))
    units.sort(key=lambda unit: (min(t.number for t in unit.targets), unit.targets[0].target_date))
    return units


def _check_course_gaps(course: list[DoseTarget]) -> None:
    """Refuse a course whose own day offsets break a min_days_after gap inside it."""
    days = {target.number: target.course_day for target in course}
    for target in course:
        for number, gap in target.min_days_after:
            if number in days and target.course_day - days[number] < gap:
                raise ValueError(
                    f"dose {target.number}: course day {target.course_day} is under {gap} days"
                    f" after dose {number} of the same course"
                )


def _label_key(chair: Chair) -> tuple[tuple[tuple[int, int | str], ...], int]:
    # Natural order, so "Chair 2" comes before "Chair 10".
    parts = re.split(r"(\d+)", chair.label)  # text, digits, text, ...
    key = tuple((0, int(p)) if i % 2 else (1, p.casefold()) for i, p in enumerate(parts))
    return key, chair.id


class _Planner:
    """Finds and books spots for one patient's doses at one site."""

    def __init__(
        self, calendar: SiteCalendar, booking: Occupancy, patient_id: int, preferences: Preferences
    ) -> None:
        self.calendar, self.booking = calendar, booking
        self.patient_id, self.preferences = patient_id, preferences
        ordered = sorted(calendar.chairs, key=_label_key)
        self.chairs = [c.id for c in ordered if c.kind == "chair"]
        self.beds = [c.id for c in ordered if c.kind == "bed"]

    def tiers(self, chair_kind: str, wanted_chair: int | None) -> list[list[int]]:
        """Return chair ids in tiers: a later tier only if no earlier one fits that day."""
        # Beds stay free for patients who need one; the wanted chair goes first.
        tiers = [list(self.beds)] if chair_kind == "bed" else [list(self.chairs), list(self.beds)]
        for tier in tiers:
            if wanted_chair in tier:
                tier.remove(wanted_chair)
                tiers[0].insert(0, wanted_chair)
                break
        return [tier for tier in tiers if tier]

    def find(
        self, target: DoseTarget, day: date, wanted_time: time | None, wanted_chair: int | None
    ) -> _Spot | int:
        """Return a free spot on an open day, or the strongest reason there is none."""
        tiers = self.tiers(target.chair_kind, wanted_chair)
        if not tiers:
            return NO_CHAIRS
        closes = self.calendar.open_interval(day)[1]  # type: ignore[index]  # open: checked
        length = timedelta(minutes=target.chair_minutes)
        starts = [s for s in self.calendar.slot_starts(day) if s + length <= closes]
        if wanted_time is not None:
            wanted = self.calendar.to_utc(day, wanted_time)
            starts.sort(key=lambda s: (abs(s - wanted), s < wanted))  # a tie goes later
        failure = HOURS
        for tier in tiers:
            for start in starts:
                found = self._try_slot(tier, start, start + length)
                if isinstance(found, _Spot):
                    return found
                failure = max(failure, found)
        return failure

    def _try_slot(self, tier: list[int], start: datetime, end: datetime) -> _Spot | int:
        calendar, booking = self.calendar, self.booking
        if booking.starts_between(start, start + calendar.slot) >= calendar.max_starts_per_slot:
            return CAPACITY
        if not booking.patient_free(self.patient_id, start, end):
            return PATIENT
        # Turnover on both sides: the previous appointment's cleaning must be
        # done by this start, and this one needs cleaning before the next.
        padded_start, padded_end = start - calendar.turnover, end + calendar.turnover
        for chair_id in tier:
            if booking.chair_free(chair_id, padded_start, padded_end):
                return _Spot(chair_id, start)
        return CHAIR

    def try_start(self, unit: _Unit, start_day: date) -> list[_Spot] | Outcome:
        """Return a spot for every day of the unit from this start, or why not."""
        days = [start_day + timedelta(days=off) for off in unit.offsets]
        for day in days:
            if self.calendar.open_interval(day) is None:
                return CLOSED, day
        wanted_time, wanted_chair = self.preferences.start_time, self.preferences.chair_id
        spots = []
        for target, day in zip(unit.targets, days):
            found = self.find(target, day, wanted_time, wanted_chair)
            if not isinstance(found, _Spot):
                return found, day
            spots.append(found)
            # Later course days keep the first day's time and chair unless the
            # patient asked for others: a routine is easier for everyone.
            if wanted_time is None:
                wanted_time = utc_to_local(found.start, self.calendar.zone).time()
            if wanted_chair is None:
                wanted_chair = found.chair_id
        return spots

    def place_unit(self, unit: _Unit, after: date | None, gap: _Gap | None) -> _Booked:
        """Book every day of a unit, or return why it fits nowhere in its window."""
        limits = unit.limits(after, gap)
        span, target, weekday = limits.span, unit.targets[0].target_date, self.preferences.weekday
        days = [span[0] + timedelta(days=n) for n in range((span[1] - span[0]).days + 1)]
        days.sort(key=lambda d: (d.weekday() != weekday, abs((d - target).days), d < target))
        outcomes: dict[date, Outcome] = {}
        for start_day in days:
            found = self.try_start(unit, start_day)
            if isinstance(found, tuple):
                outcomes[start_day] = found
                continue
            moved = self.moved_reason(unit, start_day, outcomes, limits)
            return [
                self.book(dose, start_day + timedelta(days=offset), spot, moved)
                for dose, offset, spot in zip(unit.targets, unit.offsets, found)
            ]
        if limits.gap is not None:
            return self.gap_reason(unit, span, outcomes, limits.gap)
        return self.unplaced_reason(unit, span, outcomes, after)

    def book(self, target: DoseTarget, day: date, spot: _Spot, moved: str | None) -> PlacedDose:
        """Record a spot in the booking and return the placed dose."""
        end = spot.start + timedelta(minutes=target.chair_minutes)
        self.booking.add(spot.chair_id, self.patient_id, spot.start, end)
        blocked_until = end + self.calendar.turnover
        moved = moved if day != target.target_date else None
        return PlacedDose(target, day, spot.chair_id, spot.start, end, blocked_until, moved)

    def failure_text(self, target: DoseTarget, failure: int) -> str:
        """Say in staff words why a day could not take a dose."""
        bed = target.chair_kind == "bed"
        if failure == NO_CHAIRS:
            return "needs a bed: the site has none" if bed else "the site has no chairs"
        if failure == CHAIR:
            return "needs a bed: none free" if bed else "no free chair"
        if failure == PATIENT:
            return "patient booked elsewhere at every free time"
        if failure == CAPACITY:
            limit, minutes = self.calendar.max_starts_per_slot, self.calendar.slot_minutes
            return f"every start slot full ({limit} per {minutes} min)"
        return f"chair time {target.chair_minutes} min does not fit the opening hours"

    def unplaced_reason(
        self, unit: _Unit, span: Span, outcomes: dict[date, Outcome], after: date | None
    ) -> str:
        """Say why no start day in the window worked."""
        first, size = unit.targets[0], len(unit.targets)
        course = f"course of {size} days: " if size > 1 else ""
        if span[0] > span[1]:
            own_first, own_last = unit.start_range(None)
            window = format_range(first.earliest, first.latest)
            if after is not None and own_first <= own_last:
                previous = format_day(after)
                return f"{course}no day in window {window} after the previous dose on {previous}"
            if size > 1:
                return f"{course}no start day keeps every day inside its own window"
            earliest, latest = format_day(first.earliest), format_day(first.latest)
            return f"window is empty: earliest {earliest}, latest {latest}"
        window = format_range(*span)
        failures = [code for code, _ in outcomes.values() if code != CLOSED]
        if failures:
            return f"{course}{self.failure_text(first, max(failures))} in window {window}"
        if size > 1:
            return f"no {size} consecutive open days starting in window {window}"
        return f"closed every day of the window {window}"

    def gap_reason(self, unit: _Unit, span: Span, outcomes: dict[date, Outcome], gap: _Gap) -> str:
        """Say why no start day that a minimum gap leaves in the window worked."""
        first, size = unit.targets[0], len(unit.targets)
        course = f"course of {size} days: " if size > 1 else ""
        lead, window = f"{course}{gap.text()}: ", format_range(*unit.start_range(None))
        if span[0] > span[1]:
            return f"{lead}no day left in window {window}"
        failures = [code for code, _ in outcomes.values() if code != CLOSED]
        if failures:
            failure = self.failure_text(first, max(failures))
            return f"{lead}{failure} on every day left in window {window}"
        if size > 1:
            return f"{lead}no {size} consecutive open days left in window {window}"
        return f"{lead}no open day left in window {window}"

    def moved_reason(
        self, unit: _Unit, day: date, outcomes: dict[date, Outcome], limits: _Limits
    ) -> str:
        """Say in staff words why a unit starts off its target date."""
        first, span, after, gap = unit.targets[0], limits.span, limits.after, limits.gap
        target, weekday = first.target_date, self.preferences.weekday
        early, late = (first.earliest - target).days, (first.latest - target).days
        window = f"{'−' if early <= 0 else '+'}{abs(early)}/{'+' if late >= 0 else '−'}{abs(late)}"
        moved, was = f"→ {format_day(day)} (window {window})", f"target {format_day(target)}"
        if weekday is not None and day.weekday() == weekday != target.weekday():
            return f"preferred weekday {WEEKDAY_NAMES[weekday]}: {was} {moved}"
        if gap is not None and target < span[0]:
            return f"{was} too close: {gap.text()} {moved}"
        if after is not None and target <= after:
            return f"{was} not after the previous dose on {format_day(after)} {moved}"
        if not span[0] <= target <= span[1]:
            return f"{was} outside the window {format_range(*span)} {moved}"
        code, failed_day = outcomes.get(target, (CLOSED, target))
        where = "" if failed_day == target else f": course day {format_day(failed_day)}"
        if code == CLOSED:
            return f"{was}{where} closed {moved}"
        return f"{was}{where} full ({self.failure_text(first, code)}) {moved}"


def place(
    targets: Sequence[DoseTarget],
    calendar: SiteCalendar,
    occupancy: Occupancy,
    patient_id: int,
    preferences: Preferences = Preferences(),
) -> Placement:
    """Place each dose in a chair and start slot inside its window, or say why not."""
    if preferences.weekday is not None and preferences.weekday not in range(7):
        raise ValueError(f"preferred weekday must be 0..6, got {preferences.weekday!r}")
    planner = _Planner(calendar, occupancy.fork(), patient_id, preferences)
    placed: list[PlacedDose] = []
    unplaced: list[UnplacedDose] = []
    after: date | None = None  # the last placed day: later doses go after it
    # Where each dose is for min_days_after: its target date until it is placed.
    anchors = {target.number: (target.target_date, False) for target in targets}
    for unit in _units(targets):
        outcome = planner.place_unit(unit, after, unit.gap(anchors))
        if isinstance(outcome, str):
            unplaced.extend(UnplacedDose(target, outcome) for target in unit.targets)
        else:
            placed.extend(outcome)
            anchors.update((dose.target.number, (dose.day, True)) for dose in outcome)
            after = outcome[-1].day
    placed.sort(key=lambda dose: dose.target.number)
    unplaced.sort(key=lambda dose: dose.target.number)
    return Placement(placed=placed, unplaced=unplaced)
