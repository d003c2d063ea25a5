"""Regimen parsing, dose maths and plain-words descriptions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from clinic.domain.regimens import (
    DoseRule,
    PlanningError,
    Regimen,
    Window,
    default_window,
    describe_regimen,
    dose_amount,
    load_catalog,
    mosteller_bsa,
    parse_regimen,
)
from clinic.domain.targets import Measures

CATALOG = {entry["code"]: entry for entry in load_catalog()}


def regimen(code: str) -> Regimen:
    """Parse the catalog regimen of ``code``."""
    return parse_regimen(CATALOG[code])


def first_dose(code: str, weight: float | None = None, height: float | None = None) -> float:
    """Return the amount of the first course's infusions for a patient."""
    course = regimen(code).courses[0]
    amount, _unit = dose_amount(course.dose, Measures(weight, height), len(course.days), code)
    return amount


def maintenance_dose(code: str, weight: float) -> float:
    """Return the amount of the repeated course's infusions."""
    course = regimen(code).repeat.course  # type: ignore[union-attr]
    return dose_amount(course.dose, Measures(weight), len(course.days), code)[0]


# -- dose maths ------------------------------------------------------------------


def test_mosteller_bsa_matches_the_reference_example() -> None:
    assert mosteller_bsa(175, 70) == pytest.approx(1.8447, abs=1e-4)  # §8: ≈ 1.85 m²


@pytest.mark.parametrize(
    ("code", "weight", "height", "expected"),
    [
        ("natalizumab-ms", None, None, 300),
        ("ocrelizumab-ms", None, None, 300),
        ("alemtuzumab-ms", None, None, 12),
        ("ublituximab-ms", None, None, 150),
        ("infliximab-ra", 70, None, 210),
        ("rituximab-ra", None, None, 1000),
        ("abatacept-ra", 59, None, 500),
        ("abatacept-ra", 59.9, None, 500),
        ("abatacept-ra", 60, None, 750),
        ("abatacept-ra", 100, None, 750),
        ("abatacept-ra", 100.5, None, 1000),
        ("abatacept-ra", 101, None, 1000),
        ("tocilizumab-ra", 70, None, 280),
        ("tocilizumab-ra", 200, None, 800),  # 4 mg/kg would be 800: at the cap
        ("tocilizumab-ra", 250, None, 800),  # 1000 mg capped at 800
        ("rituximab-aav-induction", 70, 175, 692),  # §8: 375 mg/m² x 1.8447 = 691.75
        ("rituximab-aav-maintenance", None, None, 500),
        ("cyclophosphamide-aav", 70, None, 1050),
        ("cyclophosphamide-aav", 80, None, 1200),
        ("cyclophosphamide-aav", 90, None, 1200),  # 1350 capped at 1200
        ("ivig-dm", 70, None, 28.0),  # 2 g/kg over 5 days = 0.4 g/kg a day
        ("ivig-dm", 67.3, None, 26.9),  # 26.92 g rounds to 0.1 g
        ("belimumab-sle", 70, None, 700),
        ("anifrolumab-sle", None, None, 300),
        ("inebilizumab-nmosd", None, None, 300),
        ("efgartigimod-mg", 70, None, 700),
        ("efgartigimod-mg", 119, None, 1190),
        ("efgartigimod-mg", 120, None, 1200),
        ("efgartigimod-mg", 150, None, 1200),  # >= 120 kg: the 1200 mg maximum
        ("eculizumab-mg", None, None, 900),
        ("ravulizumab-mg", 40, None, 2400),
        ("ravulizumab-mg", 59.9, None, 2400),
        ("ravulizumab-mg", 60, None, 2700),
        ("ravulizumab-mg", 99.9, None, 2700),
        ("ravulizumab-mg", 100, None, 3000),
        ("ivig-cidp", 70, None, 28.0),  # loading 2 g/kg over 5 days
    ],
)
def test_first_course_amount(
    code: str, weight: float | None, height: float | None, expected: float
) -> None:
    assert first_dose(code, weight, height) == expected


@pytest.mark.parametrize(
    ("code", "weight", "expected"),
    [
        ("ravulizumab-mg", 45, 3000),
        ("ravulizumab-mg", 60, 3300),
        ("ravulizumab-mg", 130, 3600),
        ("ivig-cidp", 70, 35.0),  # maintenance 1 g/kg over 2 days
        ("ocrelizumab-ms", 70, 600),
        ("ublituximab-ms", 70, 450),
        ("eculizumab-mg", 70, 1200),
    ],
)
def test_repeated_course_amount(code: str, weight: float, expected: float) -> None:
    assert maintenance_dose(code, weight) == expected


def test_amount_units_and_rounding() -> None:
    per_kg_mg = DoseRule(kind="per_kg", unit="mg", amount=15)
    assert dose_amount(per_kg_mg, Measures(70.1)) == (1052, "mg")  # 1051.5 rounds half up
    per_course_g = DoseRule(kind="per_kg", unit="g", amount=2, per="course")
    assert dose_amount(per_course_g, Measures(70), course_infusions=4) == (35.0, "g")
    assert dose_amount(per_course_g, Measures(71.33), course_infusions=3) == (47.6, "g")


@pytest.mark.parametrize(
    ("code", "measures", "message"),
    [
        ("infliximab-ra", Measures(), "weight_kg is required for infliximab-ra (dose is per kg)"),
        ("ivig-dm", Measures(height_cm=170), "weight_kg is required for ivig-dm (dose is per kg)"),
        ("abatacept-ra", Measures(), "weight_kg is required for abatacept-ra (dose is by weight"),
        ("rituximab-aav-induction", Measures(70), "height_cm is required for rituximab-aav-ind"),
        ("rituximab-aav-induction", Measures(height_cm=175), "weight_kg is required"),
        ("natalizumab-ms", Measures(0.5), "weight_kg must be between 1 and 400 kg, got 0.5"),
        ("natalizumab-ms", Measures(401), "weight_kg must be between 1 and 400 kg, got 401"),
        ("natalizumab-ms", Measures(70, 29), "height_cm must be between 30 and 250 cm, got 29"),
        ("natalizumab-ms", Measures(70, 251), "height_cm must be between 30 and 250 cm, got 251"),
        ("natalizumab-ms", Measures(float("nan")), "weight_kg must be a number"),
        ("ravulizumab-mg", Measures(39), "weight_kg 39 is outside every weight band of ravu"),
    ],
)
def test_bad_measures_name_the_measure(code: str, measures: Measures, message: str) -> None:
    course = regimen(code).courses[0]
    with pytest.raises(PlanningError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        dose_amount(course.dose, measures, len(course.days), code)


def test_planning_error_is_a_value_error() -> None:
    assert issubclass(PlanningError, ValueError)


@pytest.mark.parametrize(
    ("interval", "expected"),
    [(1, Window(0, 2)), (7, Window(0, 2)), (13, Window(0, 2)), (14, Window(2, 3)),
     (20, Window(2, 3)), (21, Window(3, 3)), (28, Window(3, 3)), (50, Window(3, 3)),
     (56, Window(7, 7)), (168, Window(7, 7)), (365, Window(7, 7))],
)  # fmt: skip
def test_default_windows_follow_the_clinic_policy(interval: int, expected: Window) -> None:
    assert default_window(interval) == expected


# -- parsing ---------------------------------------------------------------------


def test_parse_accepts_an_entry_or_its_regimen_table() -> None:
    entry = CATALOG["ocrelizumab-ms"]
    from_entry = parse_regimen(entry)
    from_table = parse_regimen(entry["regimen"], code="ocrelizumab-ms")
    assert from_entry == from_table
    assert from_entry.code == "ocrelizumab-ms"
    assert [c.start_day for c in from_entry.courses] == [0, 14, 168]
    assert from_entry.repeat is not None and from_entry.repeat.every_days == 168


def test_with_course_count_edits_cyclophosphamide_up_to_ten() -> None:
    cyclophosphamide = regimen("cyclophosphamide-aav")
    assert cyclophosphamide.course_count == 6
    assert cyclophosphamide.with_course_count(10).course_count == 10
    with pytest.raises(ValueError, match="between 3 and 10, got 11"):
        cyclophosphamide.with_course_count(11)
    with pytest.raises(ValueError, match="only a finite repeating regimen"):
        regimen("natalizumab-ms").with_course_count(5)


BASE: dict[str, Any] = {
    "dose": {"kind": "fixed", "amount": 300, "unit": "mg"},
    "infusion_minutes": 60,
    "courses": [{"phase": "maintenance", "start_day": 0}],
    "repeat": {"phase": "maintenance", "every_days": 28},
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """Return BASE with one dotted path set (value None deletes the key)."""
    table = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = table
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return table


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (changed("dose.kind", "per_lb"), "dose.kind: 'per_lb' is not one of fixed"),
        (changed("dose.unit", "ml"), "dose.unit: 'ml' is not one of mg, g"),
        (changed("dose.amount", -5), "dose.amount: expected a positive number"),
        (changed("dose.amount", None), "a fixed dose needs an amount"),
        (changed("dose.per", "day"), "dose.per: 'day' is not one of infusion, course"),
        (changed("dose.kind", "weight_band"), "a weight_band dose needs bands"),
        (changed("dose.colour", "red"), "dose: unknown key"),
        (changed("dose", None), "no dose here and no default regimen.dose"),
        (changed("infusion_minutes", None), "regimen: missing infusion_minutes"),
        (changed("infusion_minutes", 0), "infusion_minutes: expected a whole number >= 1"),
        (changed("infusion_minutes", 1.5), "infusion_minutes: expected a whole number"),
        (changed("infusion_minutes", True), "infusion_minutes: expected a whole number"),
        (changed("courses", []), "at least one course is needed"),
        (changed("courses", "weekly"), "courses: expected a list"),
        (changed("courses.0.start_day", 3), "the first course must start on day 0"),
        (changed("courses.0.phase", None), r"courses\[0\]: missing phase"),
        (changed("courses.0.days", [1, 2]), "days: expected increasing whole days from 0"),
        (changed("courses.0.days", [0, 2, 2]), "days: expected increasing whole days from 0"),
        (changed("courses.0.days", []), "days: expected increasing whole days from 0"),
        (changed("courses.0.window", {"early": -1, "late": 2}), "window.early: expected a whole"),
        (changed("courses.0.window", {"early": 1}), "window: missing late"),
        (changed("courses", [{"phase": "a", "start_day": 0, "days": [0, 1, 2]},
                             {"phase": "a", "start_day": 2}]), r"courses\[1\].start_day: overlaps"),
        (changed("repeat.every_days", None), "repeat.every_days: needed"),
        (changed("repeat", {"phase": "m", "every_days": 3, "days": [0, 1, 2, 3]}),
         "repeat.every_days: needed, and longer than a course"),
        (changed("repeat.max_count", 4), "repeat.max_count: needs a count"),
        (changed("repeat.count", 0), "repeat.count: expected a whole number >= 1"),
        (changed("min_gaps", [{"days": 14, "between": "weeks"}]), "between: 'weeks' is not one of"),
        (changed("min_gaps", [{"days": 14, "phases": ["loading"]}]), "no such phase"),
        (changed("min_gaps", [{"between": "doses"}]), r"min_gaps\[0\]: missing days"),
        (changed("chair_kind", "sofa"), "chair_kind: 'sofa' is not one of any, bed"),
        (changed("schedule", "weekly"), "regimen: unknown key"),
        (changed("dose", {"kind": "weight_band", "unit": "mg", "bands": [{"amount": 5}]}),
         "a weight band needs at least one bound"),
        (changed("dose", {"kind": "weight_band", "unit": "mg",
                          "bands": [{"amount": 5, "min_kg": 1, "above_kg": 2}]}),
         "give min_kg or above_kg, not both"),
    ],
)  # fmt: skip
def test_parse_rejects_bad_data(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_regimen(table, code="test-regimen")


def test_parse_errors_name_the_code_and_path() -> None:
    with pytest.raises(ValueError, match=r"^natalizumab-ms: regimen\.dose\.unit"):
        parse_regimen({"code": "natalizumab-ms", "regimen": changed("dose.unit", "ml")})


def test_parse_rejects_a_gap_that_would_break_a_consecutive_course() -> None:
    table = changed("courses.0.days", [0, 1, 2])
    table["min_gaps"] = [{"days": 2, "between": "doses"}]
    with pytest.raises(ValueError, match="breaks a consecutive-day course"):
        parse_regimen(table)


@pytest.mark.parametrize("raw", [None, "natalizumab", 42, ["courses"]])
def test_parse_rejects_what_is_not_a_table(raw: Any) -> None:
    with pytest.raises(ValueError, match="must be a table"):
        parse_regimen(raw)


# -- words and the catalog file --------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ocrelizumab-ms",
         "300 mg on days 0 and 14, 600 mg on day 168, then 600 mg every 24 weeks, until stopped"),
        ("alemtuzumab-ms", "12 mg on days 0–4 and 365–367; then ends"),
        ("rituximab-ra",
         "1000 mg on days 0 and 14, repeated every 24 weeks from the previous course start, "
         "until stopped"),
        ("cyclophosphamide-aav",
         "15 mg/kg (max 1200 mg per infusion) on days 0, 14 and 28, then 15 mg/kg "
         "(max 1200 mg per infusion) every 3 weeks; 6 doses in all (up to 10)"),
        ("ivig-dm", "2 g/kg per course, split over 5 infusions on days 0–4, repeated every "
                    "4 weeks from the previous course start, until stopped"),
        ("abatacept-ra", "by weight (500 mg if under 60 kg, 750 mg if 60–100 kg, 1000 mg if "
                         "over 100 kg) on days 0, 14 and 28, then the same dose every 4 weeks, "
                         "until stopped"),
    ],
)  # fmt: skip
def test_describe_regimen(code: str, expected: str) -> None:
    assert describe_regimen(regimen(code)) == expected


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_regimen_has_plain_words(code: str) -> None:
    text = describe_regimen(regimen(code))
    assert text.startswith(("by weight", *"0123456789"))
    assert "None" not in text and ("until stopped" in text or "in all" in text or "ends" in text)


def test_load_catalog_reads_a_given_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text('[[protocol]]\ncode = "x"\n', encoding="utf-8")
    assert load_catalog(path) == [{"code": "x"}]
    path.write_text('title = "no protocols"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"expected an array of \[\[protocol\]\] tables"):
        load_catalog(path)
