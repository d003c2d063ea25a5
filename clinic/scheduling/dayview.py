"""The day schedule as one computed view: grid placement, load per slot, totals.

The day page, its print view and ``GET /api/v1/schedule`` all call
``day_view`` so they never disagree about what a day holds. Everything
below ``day_view`` is pure: rows and ``now`` in, plain dataclasses out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic.domain.calendar import SiteCalendar
from clinic.scheduling.dayargs import EARLIEST_DAY, LATEST_DAY
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, Chair, Site
from clinic.scheduling.queries import DayRows, load_day

#: grid column of the first slot; column 1 holds the chair labels
FIRST_SLOT_COLUMN = 2
#: a lane stacks overlapping blocks (a cancelled one under its rebooking) up to this many rows
MAX_LANE_ROWS = 6
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: a flag as the monitoring rules give it: a mapping or an object with `severity` and `message`
Flag = Any

#: status -> (symbol, words): the status is always written out, never colour alone
STATUS_LABELS = {
    "scheduled": ("○", "scheduled"),
    "checked_in": ("◐", "checked in"),
    "in_chair": ("●", "in chair"),
    "completed": ("✓", "completed"),
    "cancelled": ("✕", "cancelled"),
    "no_show": ("⊘", "no-show"),
    "held": ("‖", "held"),
}
#: flag severity -> symbol shown before the flag's message
FLAG_SYMBOLS = {"critical": "‼", "warning": "⚠", "info": "ℹ"}


@dataclass(frozen=True)
class Block:
    """One appointment placed on its chair's lane (grid columns, rounded outward)."""

    appointment: Appointment
    column: int
    span: int
    row: int
    tail_column: int
    tail_span: int  # 0: no observation tail drawn
    flags: tuple[Flag, ...]

    @property
    def active(self) -> bool:
        return self.appointment.is_active


@dataclass(frozen=True)
class Cell:
    """One slot of a lane: free to book, or taken by an appointment or its turnover."""

    column: int
    start: datetime  # in the site's local time, with its offset
    free: bool
    on_hour: bool


@dataclass(frozen=True)
class Lane:
    """A chair's row: its appointments (all, by start) and, on open days, the grid."""

    chair: Chair
    appointments: tuple[Appointment, ...]
    blocks: tuple[Block, ...]
    cells: tuple[Cell, ...]
    rows: int


@dataclass(frozen=True)
class SlotLoad:
    """Infusion starts and patients in chairs during one slot (active appointments)."""

    start: datetime
    column: int
    starts: int
    in_chair: int
    starts_full: bool
    chairs_full: bool


@dataclass(frozen=True)
class HourTick:
    """A time label over the grid, spanning the slots up to the next label."""

    column: int
    span: int
    start: datetime


@dataclass(frozen=True)
class NowMarker:
    """Where the 'now' line sits: a slot column and tenths of a slot into it."""

    column: int
    tenth: int
    visible: bool


@dataclass(frozen=True)
class DayTotals:
    """The day in numbers; cancelled and no-show appointments are not counted."""

    appointments: int
    not_counted: int
    booked_minutes: int
    open_minutes: int
    first_start: datetime | None
    last_start: datetime | None

    @property
    def utilisation(self) -> int | None:
        """Return booked chair time as a whole percentage of open chair time."""
        if self.open_minutes <= 0:
            return None
        return round(100 * self.booked_minutes / self.open_minutes)


@dataclass(frozen=True)
class DayView:
    """A site's day: lanes per chair, load per slot, totals, or the closure reason."""

    site: Site
    day: date
    closed: str | None
    opens: datetime | None
    closes: datetime | None
    slot: timedelta
    lanes: tuple[Lane, ...]
    load: tuple[SlotLoad, ...]
    ticks: tuple[HourTick, ...]
    totals: DayTotals
    now: NowMarker | None
    chair_count: int
    flags: Mapping[int, tuple[Flag, ...]]

    @property
    def prev_day(self) -> date:
        return max(self.day - timedelta(days=1), EARLIEST_DAY)

    @property
    def next_day(self) -> date:
        return min(self.day + timedelta(days=1), LATEST_DAY)

    @property
    def slot_count(self) -> int:
        return len(self.load)

    def flags_for(self, appointment_id: int) -> tuple[Flag, ...]:
        """Return the flags raised on one appointment (none by default)."""
        return self.flags.get(appointment_id, ())


def day_view(
    site: Site, day: date, now: datetime, flags_by_appointment: Mapping[int, Sequence[Flag]] | None = None
) -> DayView:
    """Load and compute one site's local day, with each appointment's flags."""
    rows = load_day(site, day)
    if flags_by_appointment is None:
        from clinic.monitoring.flags import appointment_flags

        active = [a for a in rows.appointments if a.status not in INACTIVE_STATUSES]
        flags_by_appointment = appointment_flags(active, now.astimezone(ZoneInfo(site.timezone)).date())
    return compose_day_view(site, day, rows, now, flags_by_appointment)


def _calendar(site: Site, day: date, rows: DayRows) -> SiteCalendar:
    hours = {day.weekday(): (rows.hours.opens_at, rows.hours.closes_at)} if rows.hours else {}
    return SiteCalendar(
        timezone=site.timezone,
        hours=hours,
        closures=frozenset({day}) if rows.closure else frozenset(),
        slot_minutes=site.slot_minutes,
        turnover_minutes=site.turnover_minutes,
        max_starts_per_slot=site.max_starts_per_slot,
    )


def _closed_reason(day: date, rows: DayRows) -> str:
    if rows.closure is not None:
        return rows.closure.reason
    if rows.hours is None:
        return f"no opening hours on {_WEEKDAYS[day.weekday()]}s"
    return "no opening hours on this day"


def compose_day_view(
    site: Site, day: date, rows: DayRows, now: datetime, flags: Mapping[int, Sequence[Flag]]
) -> DayView:
    """Compute lanes, load, ticks and totals from a day's rows (pure)."""
    calendar = _calendar(site, day, rows)
    interval = calendar.open_interval(day)
    frozen_flags = {key: tuple(value) for key, value in flags.items()}
    chair_count = sum(1 for chair in rows.chairs if chair.active)
    axis = _Axis(interval[0], calendar.slot, len(calendar.slot_starts(day)), site.timezone) if interval else None
    by_chair: dict[int, list[Appointment]] = {}
    for appointment in rows.appointments:
        by_chair.setdefault(appointment.chair_id, []).append(appointment)
    lanes = tuple(_lane(chair, by_chair.get(chair.id, []), axis, frozen_flags) for chair in rows.chairs)
    return DayView(
        site=site,
        day=day,
        closed=None if interval else _closed_reason(day, rows),
        opens=interval[0] if interval else None,
        closes=interval[1] if interval else None,
        slot=calendar.slot,
        lanes=lanes,
        load=_load(axis, rows.appointments, site.max_starts_per_slot, chair_count) if axis else (),
        ticks=_ticks(axis) if axis else (),
        totals=_totals(rows.appointments, interval, chair_count),
        now=_now_marker(axis, day, now) if axis else None,
        chair_count=chair_count,
        flags=frozen_flags,
    )


@dataclass(frozen=True)
class _Axis:
    """The slot axis of an open day: slot i covers [opens + i*slot, opens + (i+1)*slot)."""

    opens: datetime
    slot: timedelta
    count: int
    timezone: str

    def floor(self, instant: datetime) -> int:
        return min(max((instant - self.opens) // self.slot, 0), self.count - 1)

    def ceil(self, instant: datetime) -> int:
        return min(max(-((self.opens - instant) // self.slot), 1), self.count)

    def span(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Return the slot indices [first, last) an interval touches, at least one slot."""
        first = self.floor(start)
        return first, max(self.ceil(end), first + 1)

    def start_of(self, index: int) -> datetime:
        return self.opens + index * self.slot

    def local_start(self, index: int) -> datetime:
        return self.start_of(index).astimezone(ZoneInfo(self.timezone))

    def on_hour(self, index: int) -> bool:
        return self.local_start(index).minute == 0


def _block(appointment: Appointment, axis: _Axis, row: int, flags: tuple[Flag, ...]) -> Block:
    first, last = axis.span(appointment.start_at, appointment.end_at)
    tail_first = last
    if appointment.observation_minutes > 0 and last - first > 1:
        infusion_end = appointment.start_at + timedelta(minutes=appointment.infusion_minutes)
        nearest = round((infusion_end - axis.opens) / axis.slot)
        tail_first = min(max(nearest, first + 1), last - 1)
    return Block(
        appointment=appointment,
        column=first + FIRST_SLOT_COLUMN,
        span=last - first,
        row=row,
        tail_column=tail_first + FIRST_SLOT_COLUMN,
        tail_span=last - tail_first,
        flags=flags,
    )


def _stack(spans: Sequence[tuple[int, int]]) -> list[int]:
    """Return a 1-based row per span so that spans in one row never overlap."""
    rows: list[list[tuple[int, int]]] = []
    chosen = []
    for first, last in spans:
        for number, taken in enumerate(rows, start=1):
            if all(last <= other_first or first >= other_last for other_first, other_last in taken):
                taken.append((first, last))
                chosen.append(number)
                break
        else:
            if len(rows) < MAX_LANE_ROWS:
                rows.append([(first, last)])
            else:
                rows[-1].append((first, last))
            chosen.append(len(rows))
    return chosen


def _lane(
    chair: Chair, appointments: Sequence[Appointment], axis: _Axis | None, flags: Mapping[int, tuple[Flag, ...]]
) -> Lane:
    """Place one chair's appointments (already in start order) on its lane."""
    mine = tuple(appointments)
    if axis is None:
        return Lane(chair=chair, appointments=mine, blocks=(), cells=(), rows=1)
    # Active appointments claim the first row; cancelled ones stack below them.
    ordered = sorted(mine, key=lambda a: (not a.is_active, a.start_at))
    rows = _stack([axis.span(a.start_at, a.end_at) for a in ordered])
    blocks = tuple(_block(a, axis, row, flags.get(a.id, ())) for a, row in zip(ordered, rows))
    busy: set[int] = set()
    for appointment in mine:
        if appointment.is_active:
            busy.update(range(*axis.span(appointment.start_at, appointment.chair_free_at)))
    cells = tuple(
        Cell(index + FIRST_SLOT_COLUMN, axis.local_start(index), index not in busy, axis.on_hour(index))
        for index in range(axis.count)
    )
    return Lane(chair=chair, appointments=mine, blocks=blocks, cells=cells, rows=max(rows, default=1))


def _load(axis: _Axis, appointments: Sequence[Appointment], max_starts: int, chairs: int) -> tuple[SlotLoad, ...]:
    starts = [0] * axis.count
    in_chair = [0] * axis.count
    end_of_day = axis.start_of(axis.count)
    for appointment in appointments:
        if not appointment.is_active or appointment.end_at <= axis.opens or appointment.start_at >= end_of_day:
            continue
        if appointment.start_at >= axis.opens:
            starts[axis.floor(appointment.start_at)] += 1
        for index in range(*axis.span(appointment.start_at, appointment.end_at)):
            in_chair[index] += 1
    return tuple(
        SlotLoad(
            start=axis.start_of(index),
            column=index + FIRST_SLOT_COLUMN,
            starts=starts[index],
            in_chair=in_chair[index],
            starts_full=starts[index] >= max_starts,
            chairs_full=chairs > 0 and in_chair[index] >= chairs,
        )
        for index in range(axis.count)
    )


def _ticks(axis: _Axis) -> tuple[HourTick, ...]:
    marks = [index for index in range(axis.count) if index == 0 or axis.on_hour(index)]
    bounds = [*marks[1:], axis.count]
    return tuple(
        HourTick(column=index + FIRST_SLOT_COLUMN, span=end - index, start=axis.start_of(index))
        for index, end in zip(marks, bounds)
    )


def _totals(
    appointments: Sequence[Appointment], interval: tuple[datetime, datetime] | None, chairs: int
) -> DayTotals:
    active = [a for a in appointments if a.is_active]
    booked = timedelta()
    for appointment in active:
        start, end = appointment.start_at, appointment.end_at
        if interval is not None:  # only chair time inside opening hours counts against them
            start, end = max(start, interval[0]), min(end, interval[1])
        booked += max(end - start, timedelta())
    open_time = (interval[1] - interval[0]) * chairs if interval else timedelta()
    starts = sorted(a.start_at for a in active)
    return DayTotals(
        appointments=len(active),
        not_counted=len(appointments) - len(active),
        booked_minutes=int(booked.total_seconds() // 60),
        open_minutes=int(open_time.total_seconds() // 60),
        first_start=starts[0] if starts else None,
        last_start=starts[-1] if starts else None,
    )


def _now_marker(axis: _Axis, day: date, now: datetime) -> NowMarker | None:
    if now.astimezone(ZoneInfo(axis.timezone)).date() != day:
        return None
    if not axis.opens <= now < axis.start_of(axis.count):
        return NowMarker(column=FIRST_SLOT_COLUMN, tenth=0, visible=False)
    index = axis.floor(now)
    tenth = int(10 * ((now - axis.start_of(index)) / axis.slot))
    return NowMarker(column=index + FIRST_SLOT_COLUMN, tenth=min(tenth, 9), visible=True)
