"""A site's calendar: open days and hours, closures, chairs, local time <-> UTC.

Plans are made in the site's local wall time and stored as aware UTC
instants. Converting a wall time follows PEP 495 with ``fold=0``:

- a nonexistent time (inside the spring-forward gap) moves forward by the
  length of the gap, as a wall clock would (02:30 -> 03:30 in Berlin);
- an ambiguous time (the fall-back hour happens twice) takes the first
  occurrence (the one still on summer time).

So a weekly 09:00 series is 09:00 local on both sides of a clock change
while its UTC offset changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Literal, Mapping
from zoneinfo import ZoneInfo

ChairKind = Literal["chair", "bed"]
CHAIR_KINDS: tuple[str, ...] = ("chair", "bed")

# Fixed English names: strftime("%a") follows the process locale, and staff
# messages must not change with the server's locale.
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def local_to_utc(day: date, wall_time: time, tz: str | ZoneInfo) -> datetime:
    """Return the UTC instant of a local wall time on a local day."""
    # fold=0 does both documented rules at once: a gap time is read with the
    # offset before the change (so it lands later), a repeated time is the first.
    naive_time = wall_time.replace(tzinfo=None, fold=0)
    local = datetime.combine(day, naive_time, tzinfo=_zone(tz))
    return local.astimezone(UTC)


def utc_to_local(instant: datetime, tz: str | ZoneInfo) -> datetime:
    """Return an aware instant as an aware local datetime in ``tz``."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("expected an aware datetime, got a naive one")
    return instant.astimezone(_zone(tz))


def local_date(instant: datetime, tz: str | ZoneInfo) -> date:
    """Return the local date of an aware instant in ``tz``."""
    return utc_to_local(instant, tz).date()


def format_day(day: date) -> str:
    """Format a date the way staff read it: ``Sat 16 Jan 2027``."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def format_range(first: date, last: date) -> str:
    """Format an inclusive date range compactly: ``12–18 Jan 2027``."""
    last_text = f"{last.day} {MONTH_NAMES[last.month - 1]} {last.year}"
    if first == last:
        return last_text
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last_text}"
    if first.year == last.year:
        return f"{first.day} {MONTH_NAMES[first.month - 1]}–{last_text}"
    return f"{first.day} {MONTH_NAMES[first.month - 1]} {first.year}–{last_text}"


@dataclass(frozen=True)
class Chair:
    """A treatment place at a site: a reclining chair or a bed."""

    id: int
    label: str
    kind: ChairKind = "chair"

    def __post_init__(self) -> None:
        if self.kind not in CHAIR_KINDS:
            raise ValueError(f"chair kind must be one of {CHAIR_KINDS}, got {self.kind!r}")


@dataclass(frozen=True, kw_only=True)
class SiteCalendar:
    """One site's opening hours, closures, slot grid and chairs.

    ``hours`` maps a weekday (0 = Monday) to local (open, close) wall times;
    a weekday that is absent is closed. ``closures`` are local dates.
    Keyword-only, because several fields share a type and are easy to swap.
    """

    timezone: str
    hours: Mapping[int, tuple[time, time]]
    closures: frozenset[date] = frozenset()
    slot_minutes: int = 15
    turnover_minutes: int = 15
    max_starts_per_slot: int
    chairs: tuple[Chair, ...] = ()
    _open_cache: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Freeze the containers so a calendar cannot change under a placement.
        object.__setattr__(self, "hours", MappingProxyType(dict(self.hours)))
        object.__setattr__(self, "closures", frozenset(self.closures))
        object.__setattr__(self, "chairs", tuple(self.chairs))
        ZoneInfo(self.timezone)  # raises for an unknown zone name
        for weekday, (opens, closes) in self.hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0..6, got {weekday!r}")
            if not opens < closes:
                raise ValueError(f"weekday {weekday}: opens {opens}, not before {closes}")
        if self.slot_minutes <= 0 or self.turnover_minutes < 0 or self.max_starts_per_slot < 0:
            raise ValueError("need slot_minutes > 0, turnover and max starts per slot >= 0")
        if len({chair.id for chair in self.chairs}) != len(self.chairs):
            raise ValueError("chair ids must be unique")

    @cached_property
    def zone(self) -> ZoneInfo:
        """Return the site's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def slot(self) -> timedelta:
        """Return the length of one start slot."""
        return timedelta(minutes=self.slot_minutes)

    @property
    def turnover(self) -> timedelta:
        """Return the chair cleaning time after each appointment."""
        return timedelta(minutes=self.turnover_minutes)

    def is_open(self, day: date) -> bool:
        """Return True if the site opens on this local day."""
        return self.open_interval(day) is not None

    def open_interval(self, day: date) -> tuple[datetime, datetime] | None:
        """Return the day's opening hours as UTC (open, close), None if closed."""
        # Placement asks for the same few hundred days many times; converting
        # through zoneinfo each time would dominate its run time.
        try:
            return self._open_cache[day]
        except KeyError:
            pass
        interval = None
        if day.weekday() in self.hours and day not in self.closures:
            opens, closes = self.hours[day.weekday()]
            interval = (local_to_utc(day, opens, self.zone), local_to_utc(day, closes, self.zone))
            if not interval[0] < interval[1]:  # a clock change swallowed the whole day
                interval = None
        self._open_cache[day] = interval
        return interval

    def slot_starts(self, day: date) -> tuple[datetime, ...]:
        """Return the UTC start of every slot in the day's opening hours."""
        interval = self.open_interval(day)
        if interval is None:
            return ()
        opens, closes = interval
        # Step in real time, not wall time: on a clock-change day the slots
        # stay equally long, which is what start capacity is about.
        count = -(-(closes - opens) // self.slot)
        return tuple(opens + index * self.slot for index in range(count))

    def local_date(self, instant: datetime) -> date:
        """Return the local date of an aware instant."""
        return utc_to_local(instant, self.zone).date()

    def to_utc(self, day: date, wall_time: time) -> datetime:
        """Return the UTC instant of a wall time on a day at this site."""
        return local_to_utc(day, wall_time, self.zone)

    def slot_index(self, instant: datetime) -> int | None:
        """Return the 0-based slot of the local day holding ``instant``, None outside hours."""
        interval = self.open_interval(self.local_date(instant))
        if interval is None or not interval[0] <= instant < interval[1]:
            return None
        return (instant - interval[0]) // self.slot

    def slot_floor(self, instant: datetime) -> datetime | None:
        """Return the start of the slot holding ``instant``, None outside hours."""
        index = self.slot_index(instant)
        if index is None:
            return None
        interval = self.open_interval(self.local_date(instant))
        assert interval is not None  # slot_index found it open
        return interval[0] + index * self.slot

