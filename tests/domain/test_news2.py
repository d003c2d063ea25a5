"""NEWS2 scoring: every band edge of reference/protocols.md §7, and its alerts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.domain.news2 import (
    PARAMETERS,
    VitalSigns,
    chart_value,
    needs_urgent_review,
    news2_score,
    vitals_alerts,
)

#: VitalSigns field -> key of the per-parameter scores
PARAMETER_OF = {
    "temperature_c": "temperature_c",
    "heart_rate": "heart_rate",
    "systolic_bp": "systolic_bp",
    "spo2": "spo2",
    "respiratory_rate": "respiratory_rate",
    "consciousness_alert": "consciousness",
    "on_oxygen": "air_or_oxygen",
}


def score_of(parameter: str, value: object) -> int:
    """Score one parameter of an otherwise empty set of vitals."""
    return news2_score(VitalSigns(**{parameter: value}))[1][PARAMETER_OF[parameter]]


BAND_EDGES = [
    # temperature: <=35.0 = 3; 35.1-36.0 = 1; 36.1-38.0 = 0; 38.1-39.0 = 1; >=39.1 = 2
    ("temperature_c", 35.0, 3),
    ("temperature_c", 35.1, 1),
    ("temperature_c", 36.0, 1),
    ("temperature_c", 36.1, 0),
    ("temperature_c", 38.0, 0),
    ("temperature_c", 38.1, 1),
    ("temperature_c", 39.0, 1),
    ("temperature_c", 39.1, 2),
    # heart rate: <=40 = 3; 41-50 = 1; 51-90 = 0; 91-110 = 1; 111-130 = 2; >=131 = 3
    ("heart_rate", 40, 3),
    ("heart_rate", 41, 1),
    ("heart_rate", 50, 1),
    ("heart_rate", 51, 0),
    ("heart_rate", 90, 0),
    ("heart_rate", 91, 1),
    ("heart_rate", 110, 1),
    ("heart_rate", 111, 2),
    ("heart_rate", 130, 2),
    ("heart_rate", 131, 3),
    # systolic BP: <=90 = 3; 91-100 = 2; 101-110 = 1; 111-219 = 0; >=220 = 3
    ("systolic_bp", 90, 3),
    ("systolic_bp", 91, 2),
    ("systolic_bp", 100, 2),
    ("systolic_bp", 101, 1),
    ("systolic_bp", 110, 1),
    ("systolic_bp", 111, 0),
    ("systolic_bp", 219, 0),
    ("systolic_bp", 220, 3),
    # SpO2 scale 1: <=91 = 3; 92-93 = 2; 94-95 = 1; >=96 = 0
    ("spo2", 91, 3),
    ("spo2", 92, 2),
    ("spo2", 93, 2),
    ("spo2", 94, 1),
    ("spo2", 95, 1),
    ("spo2", 96, 0),
    ("spo2", 100, 0),
    # respiratory rate: <=8 = 3; 9-11 = 1; 12-20 = 0; 21-24 = 2; >=25 = 3
    ("respiratory_rate", 8, 3),
    ("respiratory_rate", 9, 1),
    ("respiratory_rate", 11, 1),
    ("respiratory_rate", 12, 0),
    ("respiratory_rate", 20, 0),
    ("respiratory_rate", 21, 2),
    ("respiratory_rate", 24, 2),
    ("respiratory_rate", 25, 3),
    # consciousness: alert = 0, anything less = 3; supplemental oxygen = 2
    ("consciousness_alert", True, 0),
    ("consciousness_alert", False, 3),
    ("on_oxygen", False, 0),
    ("on_oxygen", True, 2),
]


@pytest.mark.parametrize(("parameter", "value", "expected"), BAND_EDGES)
def test_band_edges(parameter: str, value: object, expected: int) -> None:
    assert score_of(parameter, value) == expected


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        # read like the chart: temperature to 0.1 °C, the rest to whole numbers, halves up
        ("temperature_c", 38.04, 0),
        ("temperature_c", 38.05, 1),
        ("temperature_c", 35.04, 3),
        ("temperature_c", 35.05, 1),
        ("heart_rate", 90.4, 0),
        ("heart_rate", 90.5, 1),
        ("spo2", 91.4, 3),
        ("spo2", 91.5, 2),
        ("systolic_bp", 219.5, 3),
    ],
)
def test_values_between_bands_are_read_like_the_chart(
    parameter: str, value: float, expected: int
) -> None:
    assert score_of(parameter, value) == expected


def test_chart_value_rounds_halves_up() -> None:
    assert chart_value(38.05, 1) == 38.1
    assert chart_value(37.94, 1) == 37.9
    assert chart_value(90.5) == 91
    assert chart_value(91.49) == 91


def test_missing_parameters_score_zero() -> None:
    total, scores = news2_score(VitalSigns())
    assert total == 0
    assert scores == dict.fromkeys(PARAMETERS, 0)


def test_total_adds_every_parameter() -> None:
    vitals = VitalSigns(
        temperature_c=39.5,  # 2
        heart_rate=115,  # 2
        systolic_bp=105,  # 1
        respiratory_rate=22,  # 2
        spo2=94,  # 1
        on_oxygen=True,  # 2
    )
    total, scores = news2_score(vitals)
    assert total == 10
    assert scores["consciousness"] == 0


@pytest.mark.parametrize(
    ("total", "scores", "urgent"),
    [
        (4, {"heart_rate": 2, "respiratory_rate": 2}, False),
        (5, {"heart_rate": 2, "respiratory_rate": 2, "spo2": 1}, True),
        (3, {"spo2": 3}, True),
        (2, {"air_or_oxygen": 2}, False),
    ],
)
def test_needs_urgent_review_at_total_five_or_a_single_three(
    total: int, scores: dict[str, int], urgent: bool
) -> None:
    assert needs_urgent_review(total, scores) is urgent


@pytest.mark.parametrize(
    ("temperature", "fever"),
    [(37.9, False), (37.94, False), (37.95, True), (38.0, True), (38.2, True), (None, False)],
)
def test_fever_alert_from_38_degrees(temperature: float | None, fever: bool) -> None:
    codes = [alert.code for alert in vitals_alerts(VitalSigns(temperature_c=temperature))]
    assert ("fever" in codes) is fever


def test_alert_names_the_parameters_scoring_three() -> None:
    (alert,) = vitals_alerts(VitalSigns(spo2=91, heart_rate=80))
    assert alert.code == "vitals_out_of_range"
    assert alert.finding == "NEWS2 3 (SpO₂ 91 % scoring 3)"
    assert alert.response == "urgent clinical review"


def test_total_of_seven_asks_for_an_emergency_response() -> None:
    vitals = VitalSigns(heart_rate=135, respiratory_rate=26, spo2=95)  # 3 + 3 + 1
    (alert,) = vitals_alerts(vitals)
    assert alert.response == "emergency response"


@pytest.mark.parametrize(
    ("parameter", "low", "high"),
    [
        ("heart_rate", 20, 250),
        ("systolic_bp", 50, 260),
        ("spo2", 50, 100),
        ("respiratory_rate", 4, 60),
    ],
)
def test_scores_rise_away_from_the_normal_band(parameter: str, low: int, high: int) -> None:
    """Scores never fall as a value moves away from normal (V shape over the API range)."""
    scores = [score_of(parameter, value) for value in range(low, high + 1)]
    bottom = scores.index(0)
    assert scores[: bottom + 1] == sorted(scores[: bottom + 1], reverse=True)
    last_zero = len(scores) - 1 - scores[::-1].index(0)
    assert scores[last_zero:] == sorted(scores[last_zero:])


def optional(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    return st.none() | strategy


vital_signs = st.builds(
    VitalSigns,
    temperature_c=optional(st.floats(30, 45)),
    heart_rate=optional(st.floats(20, 250)),
    systolic_bp=optional(st.floats(50, 260)),
    diastolic_bp=optional(st.floats(20, 160)),
    respiratory_rate=optional(st.floats(4, 60)),
    spo2=optional(st.floats(50, 100)),
    consciousness_alert=st.booleans(),
    on_oxygen=st.booleans(),
)


@settings(max_examples=1000, deadline=None)
@given(vital_signs)
def test_total_is_the_sum_of_parameter_scores_each_0_to_3(vitals: VitalSigns) -> None:
    total, scores = news2_score(vitals)
    assert set(scores) == set(PARAMETERS)
    assert total == sum(scores.values())
    assert all(0 <= score <= 3 for score in scores.values())
    assert scores["air_or_oxygen"] in (0, 2)


@settings(max_examples=1000, deadline=None)
@given(vital_signs)
def test_alert_iff_a_single_three_or_total_five(vitals: VitalSigns) -> None:
    total, scores = news2_score(vitals)
    alerted = any(alert.code == "vitals_out_of_range" for alert in vitals_alerts(vitals))
    assert alerted == (total >= 5 or 3 in scores.values())
