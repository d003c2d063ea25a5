"""Dose planning: nominal schedules for every code, re-planning, windows and gaps."""

from __future__ import annotations

import ast
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Sequence

import pytest

from clinic.domain import planning, regimen_schema, regimens
from clinic.domain.planning import plan_doses
from clinic.domain.regimens import PlanningError, Regimen, load_catalog, parse_regimen
from clinic.domain.targets import DoseTarget, Measures

REGIMENS = {entry["code"]: parse_regimen(entry) for entry in load_catalog()}
DAY0 = date(2027, 1, 4)
PATIENT = Measures(weight_kg=70, height_cm=175)


def offsets(targets: list[DoseTarget], field: str = "target_date") -> list[int]:
    """Return the days from DAY0 of one date field of each target."""
    return [(getattr(t, field) - DAY0).days for t in targets]


def plan(
    code: str,
    *,
    count: int | None = None,
    history: Sequence[int] = (),
    measures: Measures = PATIENT,
    horizon: date | None = None,
) -> list[DoseTarget]:
    """Plan ``code`` for the sample patient; ``history`` in days from DAY0."""
    given = [DAY0 + timedelta(days=d) for d in history]
    return plan_doses(REGIMENS[code], DAY0, measures, given, horizon=horizon, max_doses=count)


# (code, doses to plan, day offsets, amounts, unit, phases by dose, infusion, observation)
NOMINAL = [
    ("natalizumab-ms", 4, [0, 28, 56, 84], [300] * 4, "mg", ["maintenance"] * 4,
     [60] * 4, [60] * 4),
    ("ocrelizumab-ms", 5, [0, 14, 168, 336, 504], [300, 300, 600, 600, 600], "mg",
     ["initial"] * 2 + ["maintenance"] * 3, [150, 150, 210, 210, 210], [60] * 5),
    ("alemtuzumab-ms", None, [0, 1, 2, 3, 4, 365, 366, 367], [12] * 8, "mg",
     ["course 1"] * 5 + ["course 2"] * 3, [240] * 8, [120] * 8),
    ("ublituximab-ms", 4, [0, 14, 168, 336], [150, 450, 450, 450], "mg",
     ["initial"] * 2 + ["maintenance"] * 2, [240, 60, 60, 60], [60, 60, 0, 0]),
    ("infliximab-ra", 5, [0, 14, 42, 98, 154], [210] * 5, "mg",
     ["induction"] * 3 + ["maintenance"] * 2, [120] * 5, [60] * 5),
    ("rituximab-ra", 6, [0, 14, 168, 182, 336, 350], [1000] * 6, "mg", ["course"] * 6,
     [255] + [195] * 5, [30] * 6),
    ("abatacept-ra", 5, [0, 14, 28, 56, 84], [750] * 5, "mg",
     ["loading"] * 3 + ["maintenance"] * 2, [30] * 5, [0] * 5),
    ("tocilizumab-ra", 3, [0, 28, 56], [280] * 3, "mg", ["maintenance"] * 3, [60] * 3, [0] * 3),
    ("rituximab-aav-induction", None, [0, 7, 14, 21], [692] * 4, "mg", ["induction"] * 4,
     [255, 195, 195, 195], [30] * 4),
    ("rituximab-aav-maintenance", 5, [0, 14, 182, 364, 546], [500] * 5, "mg",
     ["initial"] * 2 + ["maintenance"] * 3, [255] + [195] * 4, [30] * 5),
    ("cyclophosphamide-aav", None, [0, 14, 28, 49, 70, 91], [1050] * 6, "mg", ["pulse"] * 6,
     [60] * 6, [0] * 6),
    ("ivig-dm", 10, [0, 1, 2, 3, 4, 28, 29, 30, 31, 32], [28.0] * 10, "g", ["cycle"] * 10,
     [145] * 10, [0] * 10),
    ("belimumab-sle", 5, [0, 14, 28, 56, 84], [700] * 5, "mg",
     ["loading"] * 3 + ["maintenance"] * 2, [60] * 5, [0] * 5),
    ("anifrolumab-sle", 3, [0, 28, 56], [300] * 3, "mg", ["maintenance"] * 3, [30] * 3, [0] * 3),
    ("inebilizumab-nmosd", 4, [0, 14, 182, 364], [300] * 4, "mg",
     ["loading"] * 2 + ["maintenance"] * 2, [90] * 4, [60] * 4),
    ("efgartigimod-mg", 9, [0, 7, 14, 21, 50, 57, 64, 71, 100], [700] * 9, "mg", ["cycle"] * 9,
     [60] * 9, [60] * 9),
    ("eculizumab-mg", 7, [0, 7, 14, 21, 28, 42, 56], [900] * 4 + [1200] * 3, "mg",
     ["induction"] * 4 + ["maintenance"] * 3, [35] * 7, [60] * 7),
    ("ravulizumab-mg", 4, [0, 14, 70, 126], [2700, 3300, 3300, 3300], "mg",
     ["loading"] + ["maintenance"] * 3, [60] * 4, [60] * 4),
    ("ivig-cidp", 9, [0, 1, 2, 3, 4, 21, 22, 42, 43], [28.0] * 5 + [35.0] * 4, "g",
     ["loading"] * 5 + ["maintenance"] * 4, [145] * 5 + [170] * 4, [0] * 9),
]  # fmt: skip


def test_the_table_covers_every_catalog_code() -> None:
    assert sorted(row[0] for row in NOMINAL) == sorted(REGIMENS)


@pytest.mark.parametrize(
    ("code", "count", "days", "amounts", "unit", "phases", "infusion", "observation"), NOMINAL
)
def test_nominal_plan(
    code: str, count: int | None, days: list[int], amounts: list[float], unit: str,
    phases: list[str], infusion: list[int], observation: list[int],
) -> None:  # fmt: skip
    targets = plan(code, count=count)
    assert offsets(targets) == days
    assert [t.number for t in targets] == list(range(1, len(days) + 1))
    assert [t.amount for t in targets] == amounts
    assert {t.unit for t in targets} == {unit}
    assert [t.phase for t in targets] == phases
    assert [t.infusion_minutes for t in targets] == infusion
    assert [t.observation_minutes for t in targets] == observation


@pytest.mark.parametrize(
    ("code", "weight", "expected"),
    [("abatacept-ra", 59, 500), ("abatacept-ra", 60, 750), ("abatacept-ra", 100, 750),
     ("abatacept-ra", 101, 1000), ("cyclophosphamide-aav", 90, 1200),
     ("efgartigimod-mg", 125, 1200), ("tocilizumab-ra", 210, 800), ("ivig-dm", 80, 32.0)],
)  # fmt: skip
def test_every_dose_of_the_plan_uses_the_patient_weight(
    code: str, weight: float, expected: float
) -> None:
    targets = plan(code, count=6, measures=Measures(weight, 170))
    assert {t.amount for t in targets} == {expected}


@pytest.mark.parametrize(
    ("weight", "loading", "maintenance"),
    [(40, 2400, 3000), (59, 2400, 3000), (60, 2700, 3300), (100, 3000, 3600), (180, 3000, 3600)],
)
def test_ravulizumab_bands(weight: float, loading: int, maintenance: int) -> None:
    targets = plan("ravulizumab-mg", count=3, measures=Measures(weight))
    assert [t.amount for t in targets] == [loading, maintenance, maintenance]


def test_courses_of_consecutive_days_are_numbered_for_placement() -> None:
    alemtuzumab = plan("alemtuzumab-ms")
    assert [(t.course, t.course_day, t.course_days) for t in alemtuzumab] == [
        (1, 0, 5), (1, 1, 5), (1, 2, 5), (1, 3, 5), (1, 4, 5), (2, 0, 3), (2, 1, 3), (2, 2, 3),
    ]  # fmt: skip
    assert {t.chair_kind for t in alemtuzumab} == {"bed"}
    # A grouped course (days 0 and 14) is two single-day doses of one course.
    rituximab = plan("rituximab-ra", count=4)
    assert [(t.course, t.course_day, t.course_days) for t in rituximab] == [
        (1, 0, 1), (1, 0, 1), (2, 0, 1), (2, 0, 1),
    ]  # fmt: skip
    assert [t.course for t in plan("natalizumab-ms", count=3)] == [1, 2, 3]
    assert {t.chair_kind for t in rituximab} == {"any"}


# -- windows ---------------------------------------------------------------------

WINDOWS = [
    # (code, dose number, (earliest, target, latest) as days from DAY0)
    ("natalizumab-ms", 1, (0, 0, 3)),  # the first dose never comes before day 0
    ("natalizumab-ms", 2, (25, 28, 31)),  # 28-day intervals: -3/+3
    ("ocrelizumab-ms", 2, (12, 14, 17)),  # 14-day steps: -2/+3
    ("ocrelizumab-ms", 3, (161, 168, 175)),  # >= 56 days: -7/+7
    ("rituximab-aav-induction", 2, (7, 7, 9)),  # weekly: -0/+2
    ("rituximab-ra", 3, (161, 168, 175)),
    ("cyclophosphamide-aav", 4, (46, 49, 52)),  # 21 days: -3/+3
    ("infliximab-ra", 3, (39, 42, 45)),  # 28 days from dose 2
    ("eculizumab-mg", 1, (0, 0, 2)),
    ("eculizumab-mg", 6, (40, 42, 44)),  # label: +/-2 days
    ("ravulizumab-mg", 1, (0, 0, 7)),
    ("ravulizumab-mg", 2, (14, 14, 14)),  # first maintenance dose: exact
    ("ravulizumab-mg", 3, (63, 70, 77)),  # +/-7 days
    ("anifrolumab-sle", 2, (14, 28, 31)),  # >= 14 days after the previous dose
    ("alemtuzumab-ms", 6, (365, 365, 372)),  # >= 365 days after course 1 started
    ("efgartigimod-mg", 5, (50, 50, 53)),  # >= 50 days start to start
    ("efgartigimod-mg", 6, (57, 57, 59)),
    ("ivig-dm", 6, (25, 28, 31)),  # cycle start: -3/+3
    ("ivig-dm", 8, (27, 30, 33)),  # later cycle days move with the cycle as one block
    ("ivig-cidp", 6, (18, 21, 24)),
]


@pytest.mark.parametrize(("code", "number", "window"), WINDOWS)
def test_window(code: str, number: int, window: tuple[int, int, int]) -> None:
    target = plan(code, count=number)[-1]
    assert target.number == number
    assert (
        offsets([target], "earliest")[0], offsets([target])[0], offsets([target], "latest")[0]
    ) == window


def test_minimum_gaps_are_named_for_placement() -> None:
    efgartigimod = plan("efgartigimod-mg", count=5)
    assert efgartigimod[4].min_days_after == ((1, 50), (4, 1))
    assert plan("ocrelizumab-ms", count=3)[2].min_days_after == ((2, 140),)
    assert plan("natalizumab-ms", count=1)[0].min_days_after == ()
    # A given dose is fixed: its gap is already in ``earliest``, not named.
    replanned = plan("efgartigimod-mg", count=1, history=[0, 7, 14, 21])
    assert replanned[0].min_days_after == ()
    assert offsets(replanned, "earliest") == [50]


# -- re-planning from actual dates -----------------------------------------------


def test_a_late_maintenance_dose_moves_the_next_ones() -> None:
    # Ocrelizumab: the next dose is 24 weeks after the dose actually given.
    assert offsets(plan("ocrelizumab-ms", count=2, history=[0, 14, 180])) == [348, 516]
    assert offsets(plan("natalizumab-ms", count=2, history=[0, 35])) == [63, 91]


def test_loading_offsets_count_from_the_actual_day_0() -> None:
    # Abatacept dose 2 given 5 days late: dose 3 stays on day 28.
    assert offsets(plan("abatacept-ra", count=2, history=[0, 19])) == [28, 56]
    # Day 0 itself was 3 days late: every loading offset follows it.
    assert offsets(plan("ocrelizumab-ms", count=2, history=[3])) == [17, 171]


def test_a_minimum_gap_pushes_the_target() -> None:
    # Ocrelizumab dose 2 given on day 40: dose 3 keeps 140 days (not day 168).
    target = plan("ocrelizumab-ms", count=1, history=[0, 40])[0]
    assert offsets([target], "earliest") == offsets([target]) == [180]


def test_a_course_under_way_keeps_its_own_start() -> None:
    # Two IVIG days given (day 0 a day late): the rest follow that start.
    rest = plan("ivig-dm", count=4, history=[1, 2])
    assert [t.number for t in rest] == [3, 4, 5, 6]
    assert offsets(rest) == [3, 4, 5, 29]
    assert [(t.course, t.course_day) for t in rest] == [(1, 2), (1, 3), (1, 4), (2, 0)]
    assert offsets(rest, "earliest")[:3] == [3, 4, 5]


def test_first_infusion_values_belong_to_dose_1_only() -> None:
    assert plan("rituximab-ra", count=1, history=[0])[0].infusion_minutes == 195
    natalizumab = plan("natalizumab-ms", count=2, history=list(range(0, 11 * 28, 28)))
    assert [(t.number, t.observation_minutes) for t in natalizumab] == [(12, 60), (13, 0)]


def test_history_may_finish_a_regimen() -> None:
    assert plan("rituximab-aav-induction", history=[0, 7, 14, 21]) == []
    assert plan("rituximab-aav-induction", history=[0, 7, 14, 21, 28, 35]) == []


# -- where a plan stops ----------------------------------------------------------


def test_open_ended_plans_stop_at_one_year_by_default() -> None:
    natalizumab = plan("natalizumab-ms")
    assert offsets(natalizumab) == list(range(0, 365, 28))
    assert offsets(plan("inebilizumab-nmosd")) == [0, 14, 182, 364]  # the horizon is inclusive


def test_horizon_and_max_doses() -> None:
    assert offsets(plan("natalizumab-ms", horizon=DAY0 + timedelta(days=28))) == [0, 28]
    assert len(plan("natalizumab-ms", count=20)) == 20  # a count alone is not cut at a year
    assert plan("natalizumab-ms", count=0) == []
    # A course is planned whole: cycle 2 starts on day 28, inside the horizon.
    assert offsets(plan("ivig-dm", horizon=DAY0 + timedelta(days=29)))[-1] == 32
    # An explicit horizon cuts a finite regimen too.
    assert len(plan("alemtuzumab-ms", horizon=DAY0 + timedelta(days=100))) == 5


def test_finite_regimens_end_whatever_the_horizon() -> None:
    far = DAY0 + timedelta(days=3650)
    assert len(plan("cyclophosphamide-aav", horizon=far)) == 6
    ten = REGIMENS["cyclophosphamide-aav"].with_course_count(10)
    assert offsets(plan_doses(ten, DAY0, PATIENT))[-4:] == [112, 133, 154, 175]


# -- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "measures", "message"),
    [
        ("belimumab-sle", Measures(), r"weight_kg is required for belimumab-sle \(dose is per kg"),
        ("rituximab-aav-induction", Measures(70), "height_cm is required"),
        ("natalizumab-ms", Measures(500), "weight_kg must be between 1 and 400 kg"),
        ("natalizumab-ms", Measures(70, 10), "height_cm must be between 30 and 250 cm"),
        ("ravulizumab-mg", Measures(35), "outside every weight band"),
    ],
)
def test_bad_measures(code: str, measures: Measures, message: str) -> None:
    with pytest.raises(PlanningError, match=message):
        plan(code, measures=measures)


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([DAY0, DAY0], r"history\[1\] 2027-01-04 is not after 2027-01-04"),
        ([DAY0 + timedelta(days=3), DAY0], r"history\[1\] .* is not after"),
        ([datetime(2027, 1, 4, 9)], r"history\[0\] must be a date"),
        (["2027-01-04"], r"history\[0\] must be a date"),
    ],
)
def test_bad_history(history: list[object], message: str) -> None:
    with pytest.raises(PlanningError, match=message):
        plan_doses(REGIMENS["natalizumab-ms"], DAY0, PATIENT, history)  # type: ignore[arg-type]


def test_negative_max_doses() -> None:
    with pytest.raises(PlanningError, match="max_doses must be 0 or more"):
        plan("natalizumab-ms", count=-1)


def test_a_plan_past_the_last_date_is_a_planning_error() -> None:
    with pytest.raises(PlanningError, match="runs past the last date"):
        plan_doses(REGIMENS["natalizumab-ms"], date(9999, 12, 1), PATIENT, max_doses=5)


def test_a_regimen_without_the_needed_measure_fails_only_for_planned_doses() -> None:
    given = [DAY0 + timedelta(days=d) for d in (0, 14, 28)]
    regimen: Regimen = REGIMENS["abatacept-ra"]
    assert plan_doses(regimen, DAY0, Measures(), given, max_doses=0) == []


@pytest.mark.parametrize("module", [planning, regimens, regimen_schema])
def test_the_engine_is_pure(module: object) -> None:
    """Import only the standard library and the domain; never read the clock."""
    source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    tree = ast.parse(source)
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    allowed = {"__future__", "dataclasses", "datetime", "itertools", "math", "pathlib",
               "tomllib", "typing"}  # fmt: skip
    assert {name for name in imported if not name.startswith("clinic.domain")} <= allowed
    assert ".today(" not in source and ".now(" not in source
