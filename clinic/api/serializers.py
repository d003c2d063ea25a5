"""Rows to the JSON shapes of API.md."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from clinic.patients.models import Diagnosis, Patient, Screening


def iso_local(instant: datetime | None, tz: str) -> str | None:
    """Return an ISO 8601 instant with the site's offset."""
    return instant.astimezone(ZoneInfo(tz)).isoformat() if instant else None


def iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def diagnosis_json(diagnosis: Diagnosis) -> dict[str, Any]:
    return {"id": diagnosis.id, "code": diagnosis.code, "label": diagnosis.label, "since": iso_day(diagnosis.since)}


def screening_json(screening: Screening) -> dict[str, Any]:
    return {
        "id": screening.id,
        "test": screening.test,
        "result": screening.result,
        "value": screening.value,
        "collected_on": iso_day(screening.collected_on),
    }


def patient_json(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "mrn": patient.mrn,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "name": patient.name,
        "birth_date": iso_day(patient.birth_date),
        "sex": patient.sex,
        "weight_kg": patient.weight_kg,
        "height_cm": patient.height_cm,
        "measured_on": iso_day(patient.measured_on),
        "allergies": patient.allergies,
        "phone": patient.phone,
        "email": patient.email,
        "diagnoses": [diagnosis_json(d) for d in patient.diagnoses],
        "screenings": [screening_json(s) for s in patient.screenings],
    }
