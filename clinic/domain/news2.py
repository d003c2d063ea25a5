"""Vital signs: NEWS2 scoring (Royal College of Physicians, 2017) and the alerts it drives.

Bands are those of NEWS2 Chart 1, SpO2 scale 1 (reference protocols.md §7).
A value is first rounded the way the chart is read (temperature to 0.1 °C,
everything else to a whole number, halves up), so every value falls in
exactly one band: 38.04 °C reads as 38.0 and scores 0, 38.05 reads as 38.1
and scores 1. A parameter that was not measured scores 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: bands as (highest value in the band, score), checked in order
TEMPERATURE_BANDS = ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (math.inf, 2))
HEART_RATE_BANDS = ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (math.inf, 3))
SYSTOLIC_BP_BANDS = ((90, 3), (100, 2), (110, 1), (219, 0), (math.inf, 3))
SPO2_SCALE_1_BANDS = ((91, 3), (93, 2), (95, 1), (math.inf, 0))
RESPIRATORY_RATE_BANDS = ((8, 3), (11, 1), (20, 0), (24, 2), (math.inf, 3))
SUPPLEMENTAL_OXYGEN_SCORE = 2
NOT_ALERT_SCORE = 3

#: fever threshold (CTCAE v5 "Fever" grade 1 starts here); NEWS2 scores 38.0 as 0
FEVER_C = 38.0

#: NEWS2 escalation: urgent review at a total of 5 or any single 3
URGENT_TOTAL = 5
EMERGENCY_TOTAL = 7
RED_SCORE = 3

#: the keys of the per-parameter dict, in chart order
PARAMETERS = (
    "respiratory_rate",
    "spo2",
    "air_or_oxygen",
    "systolic_bp",
    "heart_rate",
    "consciousness",
    "temperature_c",
)

_UNITS = {
    "respiratory_rate": "/min",
    "spo2": " %",
    "systolic_bp": " mmHg",
    "heart_rate": "/min",
    "temperature_c": " °C",
}

PARAMETER_LABELS = {
    "respiratory_rate": "respiratory rate",
    "spo2": "SpO₂",
    "air_or_oxygen": "supplemental oxygen",
    "systolic_bp": "systolic BP",
    "heart_rate": "heart rate",
    "consciousness": "consciousness",
    "temperature_c": "temperature",
}


@dataclass(frozen=True)
class VitalSigns:
    """One set of observations; any measurement may be missing (None)."""

    temperature_c: float | None = None
    heart_rate: float | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    respiratory_rate: float | None = None
    spo2: float | None = None
    consciousness_alert: bool = True
    on_oxygen: bool = False


@dataclass(frozen=True)
class VitalsAlert:
    """A finding on one set of vital signs that needs action, before it becomes a flag."""

    code: str
    kind: str
    finding: str
    #: the response NEWS2 asks for; None leaves the action to the caller (fever)
    response: str | None
    detail: str


def chart_value(value: float, decimals: int = 0) -> float:
    """Round a reading the way the chart is read: to `decimals` places, halves up."""
    # str() keeps the decimal the nurse typed (38.05 stays 38.05, not 38.0499…)
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def band_score(
    value: float | None, bands: tuple[tuple[float, int], ...], decimals: int = 0
) -> int:
    """Return the score of the band holding `value` (0 when not measured)."""
    if value is None:
        return 0
    reading = chart_value(value, decimals)
    for highest, score in bands:
        if reading <= highest:
            return score
    raise AssertionError("the last band is unbounded")  # pragma: no cover


def news2_score(vitals: VitalSigns) -> tuple[int, dict[str, int]]:
    """Return the NEWS2 total and the score of each parameter."""
    scores = {
        "respiratory_rate": band_score(vitals.respiratory_rate, RESPIRATORY_RATE_BANDS),
        "spo2": band_score(vitals.spo2, SPO2_SCALE_1_BANDS),
        "air_or_oxygen": SUPPLEMENTAL_OXYGEN_SCORE if vitals.on_oxygen else 0,
        "systolic_bp": band_score(vitals.systolic_bp, SYSTOLIC_BP_BANDS),
        "heart_rate": band_score(vitals.heart_rate, HEART_RATE_BANDS),
        "consciousness": 0 if vitals.consciousness_alert else NOT_ALERT_SCORE,
        "temperature_c": band_score(vitals.temperature_c, TEMPERATURE_BANDS, decimals=1),
    }
    return sum(scores.values()), scores


def needs_urgent_review(total: int, scores: dict[str, int]) -> bool:
    """Return True when NEWS2 asks for urgent review: total >= 5 or any single 3."""
    return total >= URGENT_TOTAL or any(score >= RED_SCORE for score in scores.values())


def reading_text(vitals: VitalSigns, parameter: str) -> str:
    """Describe one parameter's reading for a message, e.g. "SpO₂ 91 %"."""
    label = PARAMETER_LABELS[parameter]
    if parameter == "consciousness":
        return "not alert"
    if parameter == "air_or_oxygen":
        return "on supplemental oxygen"
    value = getattr(vitals, parameter)
    return f"{label} {value:g}{_UNITS[parameter]}"


def vitals_alerts(vitals: VitalSigns) -> list[VitalsAlert]:
    """Return the fever (>= 38.0 °C) and NEWS2 urgent-review alerts for one set of vitals."""
    alerts = []
    temperature = vitals.temperature_c
    # read to 0.1 °C like the chart, so 37.95 counts as 38.0
    if temperature is not None and chart_value(temperature, 1) >= FEVER_C:
        finding = f"Temperature {temperature:g} °C"
        alerts.append(VitalsAlert("fever", "infection", finding, None, "temperature"))
    total, scores = news2_score(vitals)
    if needs_urgent_review(total, scores):
        reds = [reading_text(vitals, name) for name, score in scores.items() if score >= RED_SCORE]
        why = f" ({', '.join(reds)} scoring 3)" if reds else ""
        response = "emergency response" if total >= EMERGENCY_TOTAL else "urgent clinical review"
        alerts.append(
            VitalsAlert("vitals_out_of_range", "vitals", f"NEWS2 {total}{why}", response, "news2")
        )
    return alerts
