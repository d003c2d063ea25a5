"""Regimens as data: the parsed ``[protocol.regimen]`` table and its dose maths.

A regimen is a list of *courses* anchored on day 0 (``courses``), optionally
followed by a *repeat* rule (another course every N days, counted from the
start of the previous course). A course is one or more infusions on day
offsets from its own start: ``[0]`` a single dose, ``[0, 1, 2, 3, 4]`` five
consecutive days, ``[0, 14]`` a grouped course (rituximab in RA).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from clinic.domain.regimen_schema import (
    CourseSpec,
    DoseRule,
    MinGap,
    RepeatRule,
    Window,
    parse_regimen_table,
)
from clinic.domain.targets import Measures

__all__ = [
    "CATALOG_PATH",
    "CourseSpec",
    "DoseRule",
    "MinGap",
    "PlanningError",
    "Regimen",
    "RepeatRule",
    "Window",
    "check_measures",
    "default_window",
    "describe_regimen",
    "dose_amount",
    "load_catalog",
    "mosteller_bsa",
    "parse_regimen",
]

CATALOG_PATH = Path(__file__).parent.parent / "protocols" / "catalog.toml"
WEIGHT_RANGE_KG = (1.0, 400.0)
HEIGHT_RANGE_CM = (30.0, 250.0)

#: Clinic policy (protocols §10): the window a dose gets from the nominal
#: interval to the previous dose. An interval between two listed sizes takes
#: the band of the smaller size (e.g. 42 days -> -3/+3), largest first.
DEFAULT_WINDOWS: tuple[tuple[int, Window], ...] = (
    (56, Window(7, 7)),
    (21, Window(3, 3)),
    (14, Window(2, 3)),
    (0, Window(0, 2)),
)


class PlanningError(ValueError):
    """A regimen cannot be dosed or planned with the inputs given."""


@dataclass(frozen=True)
class Regimen:
    """A whole regimen: the courses on day 0 offsets, then an optional repeat."""

    code: str
    courses: tuple[CourseSpec, ...]
    infusion_minutes: int
    repeat: RepeatRule | None = None
    min_gaps: tuple[MinGap, ...] = ()
    #: replaces the infusion minutes of dose 1 (slower first-infusion rate)
    first_infusion_minutes: int | None = None
    observation_minutes: int = 0
    #: observation applies to doses 1..N only, later doses get 0 (natalizumab: 12)
    observation_through_dose: int | None = None
    window: Window | None = None
    chair_kind: str = "any"

    @property
    def open_ended(self) -> bool:
        """Return True if the regimen repeats until stopped."""
        return self.repeat is not None and self.repeat.count is None

    @property
    def course_count(self) -> int | None:
        """Return how many courses the regimen has in all (None: open-ended)."""
        if self.repeat is None:
            return len(self.courses)
        return self.repeat.count

    def course_at(self, index: int) -> CourseSpec | None:
        """Return the course at 0-based ``index``, or None after the last one."""
        if index < len(self.courses):
            return self.courses[index]
        count = self.course_count
        if self.repeat is None or (count is not None and index >= count):
            return None
        return self.repeat.course

    def with_course_count(self, count: int) -> Regimen:
        """Return a copy with ``count`` courses in all (cyclophosphamide: 6, up to 10)."""
        repeat = self.repeat
        if repeat is None or repeat.count is None:
            raise ValueError(f"{self.code}: only a finite repeating regimen has an editable count")
        highest = repeat.max_count or repeat.count
        if not len(self.courses) <= count <= highest:
            raise ValueError(
                f"{self.code}: course count must be between {len(self.courses)} and {highest}, "
                f"got {count}"
            )
        return replace(self, repeat=replace(repeat, count=count))


def default_window(interval_days: int) -> Window:
    """Return the clinic's default window for a nominal interval in days."""
    for least, window in DEFAULT_WINDOWS:
        if interval_days >= least:
            return window
    return DEFAULT_WINDOWS[-1][1]


def parse_regimen(raw: Mapping[str, Any], code: str | None = None) -> Regimen:
    """Build a Regimen from a catalog entry or its regimen table; raise ValueError."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"a regimen must be a table, got {type(raw).__name__}")
    if "regimen" in raw:
        table, code = raw["regimen"], code or str(raw.get("code") or "regimen")
    else:
        table, code = raw, code or str(raw.get("code") or "regimen")
    fields = parse_regimen_table(table, code)
    return Regimen(code=code, **fields)


def load_catalog(path: Path | str | None = None) -> list[dict[str, Any]]:
    """Return the ``[[protocol]]`` entries of catalog.toml as plain dicts."""
    with Path(path or CATALOG_PATH).open("rb") as handle:
        data = tomllib.load(handle)
    entries = data.get("protocol")
    if not isinstance(entries, list):
        raise ValueError(f"{path or CATALOG_PATH}: expected an array of [[protocol]] tables")
    return entries


# -- dose maths ------------------------------------------------------------------


def mosteller_bsa(height_cm: float, weight_kg: float) -> float:
    """Return body surface area in m² by Mosteller: sqrt(height cm x weight kg / 3600)."""
    return math.sqrt(height_cm * weight_kg / 3600.0)


def _check_range(name: str, value: float | None, bounds: tuple[float, float], unit: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise PlanningError(f"{name} must be a number, got {value!r}")
    if not bounds[0] <= value <= bounds[1]:
        raise PlanningError(
            f"{name} must be between {bounds[0]:g} and {bounds[1]:g} {unit}, got {value:g}"
        )


def check_measures(measures: Measures) -> None:
    """Raise PlanningError if a given weight or height is outside its plausible range."""
    _check_range("weight_kg", measures.weight_kg, WEIGHT_RANGE_KG, "kg")
    _check_range("height_cm", measures.height_cm, HEIGHT_RANGE_CM, "cm")


def _need(value: float | None, name: str, code: str, why: str) -> float:
    if value is None:
        raise PlanningError(f"{name} is required for {code} (dose is {why})")
    return value


def _round_amount(value: float, unit: str) -> float:
    # Half-up, with a hair of tolerance so 691.4999999 from float noise is not
    # rounded down when the exact arithmetic gives .5.
    if unit == "mg":
        return int(math.floor(value + 0.5 + 1e-9))
    return math.floor(value * 10 + 0.5 + 1e-9) / 10


def dose_amount(
    rule: DoseRule, measures: Measures, course_infusions: int = 1, code: str = "this regimen"
) -> tuple[float, str]:
    """Return (amount, unit) for one infusion under ``rule``.

    mg amounts are rounded to the nearest whole mg, g amounts to the nearest
    0.1 g (halves round up). A ``per = "course"`` amount is split equally
    over the course's ``course_infusions`` infusions; ``max`` caps the amount
    of one infusion. BSA is Mosteller's, unrounded.
    """
    check_measures(measures)
    weight, height = measures.weight_kg, measures.height_cm
    if rule.kind == "fixed":
        raw = rule.amount
    elif rule.kind == "per_kg":
        raw = rule.amount * _need(weight, "weight_kg", code, "per kg")
    elif rule.kind == "per_m2":
        why = "per m² of body surface"
        height = _need(height, "height_cm", code, why)
        raw = rule.amount * mosteller_bsa(height, _need(weight, "weight_kg", code, why))
    else:
        weight = _need(weight, "weight_kg", code, "by weight band")
        band = next((band for band in rule.bands if band.contains(weight)), None)
        if band is None:
            ranges = "; ".join(band.label() for band in rule.bands)
            raise PlanningError(
                f"weight_kg {weight:g} is outside every weight band of {code} ({ranges})"
            )
        raw = band.amount
    if rule.per == "course":
        raw /= course_infusions
    if rule.max_amount is not None:
        raw = min(raw, rule.max_amount)
    return _round_amount(raw, rule.unit), rule.unit


# -- plain words -----------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:g}"


def describe_dose(rule: DoseRule, course_infusions: int = 1) -> str:
    """Say a dose rule in words, e.g. "15 mg/kg (max 1200 mg)"."""
    unit = rule.unit
    if rule.kind == "fixed":
        text = f"{_number(rule.amount)} {unit}"
    elif rule.kind == "per_kg":
        text = f"{_number(rule.amount)} {unit}/kg"
    elif rule.kind == "per_m2":
        text = f"{_number(rule.amount)} {unit}/m² (Mosteller BSA)"
    else:
        bands = ", ".join(f"{_number(b.amount)} {unit} if {b.label()}" for b in rule.bands)
        text = f"by weight ({bands})"
    if rule.per == "course" and course_infusions > 1:
        text += f" per course, split over {course_infusions} infusions"
    if rule.max_amount is not None:
        text += f" (max {_number(rule.max_amount)} {unit} per infusion)"
    return text


def describe_interval(days: int) -> str:
    """Say an interval in weeks when it is whole weeks, else in days."""
    if days % 7:
        return f"every {days} days"
    weeks = days // 7
    return "every week" if weeks == 1 else f"every {weeks} weeks"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _day_list(days: list[int]) -> str:
    """Say absolute days, compressing runs of consecutive days: "days 0–4"."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{run[0]}–{run[-1]}" if len(run) > 2 else _join([str(day) for day in run]) for run in runs
    ]
    return ("day " if len(days) == 1 else "days ") + _join(parts)


def describe_regimen(regimen: Regimen) -> str:
    """Say the nominal schedule in plain words, e.g. "300 mg on days 0 and 14, then …"."""
    groups: list[tuple[str, list[int]]] = []
    for course in regimen.courses:
        dose = describe_dose(course.dose, len(course.days))
        days = [course.start_day + offset for offset in course.days]
        if groups and groups[-1][0] == dose:
            groups[-1][1].extend(days)
        else:
            groups.append((dose, days))
    text = ", ".join(f"{dose} on {_day_list(days)}" for dose, days in groups)
    repeat = regimen.repeat
    if repeat is None:
        return text + "; then ends"
    course, last = repeat.course, regimen.courses[-1]
    every = describe_interval(repeat.every_days)
    if len(course.days) > 1:
        if (course.dose, course.days) == (last.dose, last.days):
            text += f", repeated {every} from the previous course start"
        else:
            dose = describe_dose(course.dose, len(course.days))
            days = _day_list(list(course.days))
            text += f", then courses of {dose} on {days} {every} from the previous course start"
    elif course.dose == last.dose and course.dose.kind == "weight_band":
        text += f", then the same dose {every}"
    else:
        text += f", then {describe_dose(course.dose)} {every}"
    if repeat.count is None:
        return text + ", until stopped"
    noun = "courses" if any(len(c.days) > 1 for c in (*regimen.courses, course)) else "doses"
    upto = f" (up to {repeat.max_count})" if repeat.max_count else ""
    return text + f"; {repeat.count} {noun} in all{upto}"
