"""What is already booked at a site: busy intervals per chair and patient, and starts.

Pure, like the rest of ``clinic.domain``: the caller loads the rows, placement
(``clinic.domain.placement``) books into a fork and asks whether spots are free.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime
from typing import Iterable

from clinic.domain.intervals import overlaps

Busy = tuple[int, datetime, datetime]  # (chair or patient id, start, end)


def _utc(instant: datetime) -> datetime:
    """Return an aware instant in UTC; refuse a naive one."""
    if instant.tzinfo is UTC:
        return instant
    if instant.tzinfo is None:
        raise ValueError("occupancy needs aware datetimes, got a naive one")
    # One shared tzinfo lets datetime comparisons skip utcoffset() calls.
    return instant.astimezone(UTC)


def _checked(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Return the interval in UTC; refuse one that ends before it starts."""
    start, end = _utc(start), _utc(end)
    if end < start:
        raise ValueError(f"busy interval ends before it starts: {start} > {end}")
    return start, end


class _Timeline:
    """Sorted busy intervals of one chair or patient; overlapping ones are merged."""

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []

    @classmethod
    def build(cls, intervals: list[tuple[datetime, datetime]]) -> _Timeline:
        """Build from intervals in one sorted pass."""
        timeline = cls()
        starts, ends = timeline.starts, timeline.ends
        for start, end in sorted(intervals):
            # In start order only the last kept interval can overlap this one.
            if starts and overlaps(starts[-1], ends[-1], start, end):
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return timeline

    def add(self, start: datetime, end: datetime) -> None:
        """Insert [start, end), merging it with the intervals it overlaps."""
        # Disjoint intervals have sorted ends too, so one bisect finds the
        # first interval that could overlap.
        first = last = bisect_right(self.ends, start)
        while last < len(self.starts) and overlaps(self.starts[last], self.ends[last], start, end):
            start, end = min(start, self.starts[last]), max(end, self.ends[last])
            last += 1
        self.starts[first:last] = [start]
        self.ends[first:last] = [end]

    def is_free(self, start: datetime, end: datetime) -> bool:
        """Return True if nothing here overlaps [start, end)."""
        index = bisect_right(self.ends, start)
        if index == len(self.starts):
            return True
        return not overlaps(self.starts[index], self.ends[index], start, end)


def _index(rows: Iterable[Busy]) -> dict[int, _Timeline]:
    """Group busy rows by id into timelines."""
    grouped: dict[int, list[tuple[datetime, datetime]]] = {}
    for key, start, end in rows:
        grouped.setdefault(key, []).append(_checked(start, end))
    return {key: _Timeline.build(intervals) for key, intervals in grouped.items()}


class Occupancy:
    """What is already booked at a site: busy intervals per chair and patient, starts.

    Chair intervals are appointment rows as stored (chair time, without
    turnover); placement keeps the site's turnover gap on both sides of them.
    """

    def __init__(self, parent: Occupancy | None = None) -> None:
        self._parent = parent
        self._chairs: dict[int, _Timeline] = {}
        self._patients: dict[int, _Timeline] = {}
        self._starts: list[datetime] = []

    @classmethod
    def from_busy(
        cls,
        chair_busy: Iterable[Busy] = (),
        patient_busy: Iterable[Busy] = (),
        starts: Iterable[datetime] = (),
    ) -> Occupancy:
        """Build from (chair_id, start, end), (patient_id, start, end) and start instants."""
        occupancy = cls()
        occupancy._chairs = _index(chair_busy)
        occupancy._patients = _index(patient_busy)
        occupancy._starts = sorted(_utc(start) for start in starts)
        return occupancy

    def fork(self) -> Occupancy:
        """Return a child that sees everything booked here and books only into itself."""
        return Occupancy(parent=self)

    def add(self, chair_id: int, patient_id: int, start: datetime, end: datetime) -> None:
        """Book one appointment: its chair, its patient and its start."""
        start, end = _checked(start, end)
        self._chairs.setdefault(chair_id, _Timeline()).add(start, end)
        self._patients.setdefault(patient_id, _Timeline()).add(start, end)
        self._starts.insert(bisect_right(self._starts, start), start)

    def chair_free(self, chair_id: int, start: datetime, end: datetime) -> bool:
        """Return True if the chair has nothing booked overlapping [start, end)."""
        timeline = self._chairs.get(chair_id)
        if timeline is not None and not timeline.is_free(start, end):
            return False
        return self._parent is None or self._parent.chair_free(chair_id, start, end)

    def patient_free(self, patient_id: int, start: datetime, end: datetime) -> bool:
        """Return True if the patient is nowhere else during [start, end)."""
        timeline = self._patients.get(patient_id)
        if timeline is not None and not timeline.is_free(start, end):
            return False
        return self._parent is None or self._parent.patient_free(patient_id, start, end)

    def starts_between(self, start: datetime, end: datetime) -> int:
        """Return how many infusions start in [start, end)."""
        own = bisect_left(self._starts, end) - bisect_left(self._starts, start)
        return own + (self._parent.starts_between(start, end) if self._parent else 0)
