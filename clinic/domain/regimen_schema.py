"""The parts of a regimen and the parser of the ``[protocol.regimen]`` table.

Kept apart from ``regimens.py`` (dose maths, words, catalog) so each file
stays small; import the public names from ``clinic.domain.regimens``.
Every value is checked here, so planning never meets a malformed regimen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

DOSE_KINDS = ("fixed", "per_kg", "per_m2", "weight_band")
DOSE_UNITS = ("mg", "g")
DOSE_PER = ("infusion", "course")
GAP_BETWEEN = ("doses", "courses")
CHAIR_KINDS = ("any", "bed")

_COURSE_KEYS = {"phase", "days", "dose", "infusion_minutes", "observation_minutes", "window"}
_REGIMEN_KEYS = {
    "code", "dose", "courses", "repeat", "min_gaps", "infusion_minutes",
    "first_infusion_minutes", "observation_minutes", "observation_through_dose",
    "window", "chair_kind",
}  # fmt: skip
_BAND_BOUNDS = ("min_kg", "above_kg", "max_kg", "below_kg")


@dataclass(frozen=True)
class Window:
    """Days a dose may move before (``early``) and after (``late``) its target."""

    early: int
    late: int


@dataclass(frozen=True)
class WeightBand:
    """One weight band: ``min_kg`` <= w, ``above_kg`` < w, w <= ``max_kg``, w < ``below_kg``."""

    amount: float
    min_kg: float | None = None
    above_kg: float | None = None
    max_kg: float | None = None
    below_kg: float | None = None

    def contains(self, weight_kg: float) -> bool:
        """Return True if the weight falls in this band."""
        return not (
            (self.min_kg is not None and weight_kg < self.min_kg)
            or (self.above_kg is not None and weight_kg <= self.above_kg)
            or (self.max_kg is not None and weight_kg > self.max_kg)
            or (self.below_kg is not None and weight_kg >= self.below_kg)
        )

    def label(self) -> str:
        """Say the band's range, e.g. "60–100 kg", "under 60 kg", "100 kg and over"."""
        low: str | None = None
        high: str | None = None
        if self.min_kg is not None:
            low = f"{self.min_kg:g}"
        elif self.above_kg is not None:
            low = f"over {self.above_kg:g}"
        if self.max_kg is not None:
            high = f"{self.max_kg:g}"
        elif self.below_kg is not None:
            high = f"under {self.below_kg:g}"
        if low and high:
            both_plain = self.min_kg is not None and self.max_kg is not None
            return f"{low}{'–' if both_plain else ' to '}{high} kg"
        if low:
            return f"{low} kg" if self.min_kg is None else f"{low} kg and over"
        return f"{high} kg" if self.max_kg is None else f"up to {high} kg"


@dataclass(frozen=True)
class DoseRule:
    """How much one infusion gets: fixed, per kg, per m² or by weight band."""

    kind: str
    unit: str
    amount: float = 0.0
    #: "course": ``amount`` is for the whole course, split over its infusions
    per: str = "infusion"
    #: cap on one infusion, in ``unit``
    max_amount: float | None = None
    bands: tuple[WeightBand, ...] = ()


@dataclass(frozen=True)
class CourseSpec:
    """A course: infusions on ``days`` (offsets from its start), one phase, one dose rule.

    ``start_day`` is the offset of the course from day 0 (fixed courses only).
    ``infusion_minutes``/``observation_minutes``/``window`` None: the regimen's.
    """

    phase: str
    dose: DoseRule
    days: tuple[int, ...] = (0,)
    start_day: int = 0
    infusion_minutes: int | None = None
    observation_minutes: int | None = None
    window: Window | None = None

    @property
    def consecutive(self) -> bool:
        """Return True for a multi-day course on consecutive days (placed as one block)."""
        return len(self.days) > 1 and self.days[-1] == len(self.days) - 1


@dataclass(frozen=True)
class RepeatRule:
    """Another ``course`` every ``every_days`` from the previous course start.

    ``count`` is the number of courses in the whole regimen, the fixed ones
    included (None: open-ended); ``max_count`` how far staff may raise it.
    """

    every_days: int
    course: CourseSpec
    count: int | None = None
    max_count: int | None = None


@dataclass(frozen=True)
class MinGap:
    """A minimum number of days that is never broken, whatever the window.

    ``between = "doses"``: from the previous dose; ``"courses"``: from the
    start of the previous course to this course's start. ``phases`` limits
    the rule to doses of those phases (empty: every dose).
    """

    days: int
    between: str = "doses"
    phases: tuple[str, ...] = ()


class _Reader:
    """Reads one table with a path for error messages ("code: regimen.courses[1].dose")."""

    def __init__(self, raw: Any, path: str, allowed: set[str], required: Sequence[str] = ()):
        if not isinstance(raw, Mapping):
            raise ValueError(f"{path}: expected a table, got {type(raw).__name__}")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}")
        missing = [key for key in required if key not in raw]
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)}")
        self.raw, self.path = raw, path

    def whole(self, key: str, minimum: int, default: int | None = None) -> int | None:
        """Return a whole number >= minimum, or the default when the key is absent."""
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(
                f"{self.path}.{key}: expected a whole number >= {minimum}, got {value!r}"
            )
        return value

    def positive(self, key: str, default: float | None = None) -> float | None:
        """Return a positive number, or the default when the key is absent."""
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{self.path}.{key}: expected a positive number, got {value!r}")
        return float(value)

    def choice(self, key: str, choices: Sequence[str], default: str | None = None) -> str:
        """Return one of ``choices``."""
        value = self.raw.get(key, default)
        if value not in choices:
            raise ValueError(f"{self.path}.{key}: {value!r} is not one of {', '.join(choices)}")
        return str(value)

    def text(self, key: str) -> str:
        """Return a non-empty string."""
        value = self.raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{self.path}.{key}: expected a non-empty string, got {value!r}")
        return value

    def items(self, key: str) -> list[Any]:
        """Return a list (empty when the key is absent)."""
        value = self.raw.get(key, [])
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{self.path}.{key}: expected a list, got {value!r}")
        return list(value)


def _band(raw: Any, path: str) -> WeightBand:
    reader = _Reader(raw, path, {"amount", *_BAND_BOUNDS}, ["amount"])
    bounds = {key: reader.positive(key) for key in _BAND_BOUNDS}
    if all(value is None for value in bounds.values()):
        raise ValueError(f"{path}: a weight band needs at least one bound")
    for first, second in (("min_kg", "above_kg"), ("max_kg", "below_kg")):
        if bounds[first] is not None and bounds[second] is not None:
            raise ValueError(f"{path}: give {first} or {second}, not both")
    return WeightBand(amount=reader.positive("amount") or 0.0, **bounds)


def _dose(raw: Any, path: str) -> DoseRule:
    reader = _Reader(raw, path, {"kind", "unit", "amount", "per", "max", "bands"}, ["kind", "unit"])
    kind = reader.choice("kind", DOSE_KINDS)
    bands = tuple(_band(b, f"{path}.bands[{i}]") for i, b in enumerate(reader.items("bands")))
    if kind == "weight_band":
        if not bands or "amount" in raw:
            raise ValueError(f"{path}: a weight_band dose needs bands and no amount")
    elif bands or "amount" not in raw:
        raise ValueError(f"{path}: a {kind} dose needs an amount and no bands")
    return DoseRule(
        kind=kind,
        unit=reader.choice("unit", DOSE_UNITS),
        amount=reader.positive("amount") or 0.0,
        per=reader.choice("per", DOSE_PER, "infusion"),
        max_amount=reader.positive("max"),
        bands=bands,
    )


def _window(raw: Any, path: str) -> Window | None:
    if raw is None:
        return None
    reader = _Reader(raw, path, {"early", "late"}, ["early", "late"])
    return Window(early=reader.whole("early", 0) or 0, late=reader.whole("late", 0) or 0)


def _days(reader: _Reader) -> tuple[int, ...]:
    days = reader.items("days") if "days" in reader.raw else [0]
    if (
        not days
        or any(isinstance(d, bool) or not isinstance(d, int) for d in days)
        or days[0] != 0
        or any(b <= a for a, b in zip(days, days[1:]))
    ):
        raise ValueError(f"{reader.path}.days: expected increasing whole days from 0, got {days!r}")
    return tuple(days)


def _course(raw: Any, path: str, default_dose: Any, extra: set[str]) -> tuple[CourseSpec, _Reader]:
    reader = _Reader(raw, path, _COURSE_KEYS | extra, ["phase"])
    dose_raw = raw.get("dose", default_dose)
    if dose_raw is None:
        raise ValueError(f"{path}: no dose here and no default regimen.dose")
    course = CourseSpec(
        phase=reader.text("phase"),
        dose=_dose(dose_raw, f"{path}.dose"),
        days=_days(reader),
        start_day=reader.whole("start_day", 0, 0) or 0,
        infusion_minutes=reader.whole("infusion_minutes", 1),
        observation_minutes=reader.whole("observation_minutes", 0),
        window=_window(raw.get("window"), f"{path}.window"),
    )
    return course, reader


def _courses(raw_courses: list[Any], path: str, default_dose: Any) -> tuple[CourseSpec, ...]:
    courses = tuple(
        _course(raw, f"{path}[{i}]", default_dose, {"start_day"})[0]
        for i, raw in enumerate(raw_courses)
    )
    if not courses:
        raise ValueError(f"{path}: at least one course is needed")
    if courses[0].start_day != 0:
        raise ValueError(f"{path}: the first course must start on day 0")
    for index, (before, after) in enumerate(zip(courses, courses[1:]), start=1):
        if after.start_day <= before.start_day + before.days[-1]:
            raise ValueError(f"{path}[{index}].start_day: overlaps the course before it")
    return courses


def _repeat(raw: Any, path: str, default_dose: Any, last: CourseSpec) -> RepeatRule | None:
    if raw is None:
        return None
    extra = {"every_days", "count", "max_count"}
    course, reader = _course(raw, path, default_dose, extra)
    every = reader.whole("every_days", 1)
    if every is None or every <= max(course.days[-1], last.days[-1]):
        raise ValueError(f"{path}.every_days: needed, and longer than a course")
    count, highest = reader.whole("count", 1), reader.whole("max_count", 1)
    if highest is not None and (count is None or highest < count):
        raise ValueError(f"{path}.max_count: needs a count and must be >= count")
    return RepeatRule(every_days=every, course=course, count=count, max_count=highest)


def _gap(raw: Any, path: str) -> MinGap:
    reader = _Reader(raw, path, {"days", "between", "phases"}, ["days"])
    phases = reader.items("phases")
    if any(not isinstance(p, str) for p in phases):
        raise ValueError(f"{path}.phases: expected a list of phase names")
    return MinGap(
        days=reader.whole("days", 1) or 1,
        between=reader.choice("between", GAP_BETWEEN, "doses"),
        phases=tuple(phases),
    )


def parse_regimen_table(raw: Any, code: str) -> dict[str, Any]:
    """Check a ``[protocol.regimen]`` table; return the Regimen fields or raise ValueError."""
    path = f"{code}: regimen"
    reader = _Reader(raw, path, _REGIMEN_KEYS, ["courses", "infusion_minutes"])
    default_dose = raw.get("dose")
    if default_dose is not None:
        _dose(default_dose, f"{path}.dose")  # report a bad default where it is written
    courses = _courses(reader.items("courses"), f"{path}.courses", default_dose)
    repeat = _repeat(raw.get("repeat"), f"{path}.repeat", default_dose, courses[-1])
    if repeat is not None and repeat.count is not None and repeat.count < len(courses):
        raise ValueError(f"{path}.repeat.count: fewer than the {len(courses)} fixed courses")
    gaps = tuple(_gap(g, f"{path}.min_gaps[{i}]") for i, g in enumerate(reader.items("min_gaps")))
    phases = {c.phase for c in courses} | ({repeat.course.phase} if repeat else set())
    blocks = [c for c in (*courses, *([repeat.course] if repeat else [])) if c.consecutive]
    for index, gap in enumerate(gaps):
        if set(gap.phases) - phases:
            raise ValueError(f"{path}.min_gaps[{index}].phases: no such phase in this regimen")
        # Consecutive-day courses are one day apart by definition.
        if gap.between == "doses" and gap.days > 1 and any(
            not gap.phases or c.phase in gap.phases for c in blocks
        ):
            raise ValueError(f"{path}.min_gaps[{index}]: breaks a consecutive-day course")
    return {
        "courses": courses,
        "repeat": repeat,
        "min_gaps": gaps,
        "infusion_minutes": reader.whole("infusion_minutes", 1),
        "first_infusion_minutes": reader.whole("first_infusion_minutes", 1),
        "observation_minutes": reader.whole("observation_minutes", 0, 0),
        "observation_through_dose": reader.whole("observation_through_dose", 1),
        "window": _window(raw.get("window"), f"{path}.window"),
        "chair_kind": reader.choice("chair_kind", CHAIR_KINDS, "any"),
    }
