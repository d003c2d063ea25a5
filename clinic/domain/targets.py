"""Value types shared by planning, placement and monitoring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Measures:
    """A patient's body measures that dose rules depend on."""

    weight_kg: float | None = None
    height_cm: float | None = None


@dataclass(frozen=True)
class DoseTarget:
    """One planned infusion of a regimen, before it is placed in a chair.

    ``number`` counts from 1 across the whole series. Each day of a
    multi-day course is its own dose: ``course`` numbers the course/cycle
    (1-based), ``course_day`` is the 0-based day inside it and
    ``course_days`` how many consecutive days the course has (1 for a
    single-day dose; the doses of a course that are not on consecutive days,
    like rituximab's day 0 and day 14, are single-day doses of one course).
    ``earliest``/``latest`` is the allowed window; ``earliest`` already
    honours every minimum gap.
    """

    number: int
    phase: str
    target_date: date
    earliest: date
    latest: date
    amount: float
    unit: str
    infusion_minutes: int
    observation_minutes: int
    course: int = 1
    course_day: int = 0
    course_days: int = 1
    chair_kind: str = "any"  # "any" or "bed"
    #: (dose number, days) pairs naming earlier doses of the same plan: wherever
    #: such a dose ends up placed, this one must come at least ``days`` after it.
    #: ``earliest`` honours the gaps from the *target* dates; this lets placement
    #: keep a minimum gap (e.g. efgartigimod cycles >= 50 days start to start)
    #: when the earlier dose was moved late inside its window.
    min_days_after: tuple[tuple[int, int], ...] = ()

    @property
    def chair_minutes(self) -> int:
        """Minutes the patient occupies a chair, before turnover."""
        return self.infusion_minutes + self.observation_minutes
