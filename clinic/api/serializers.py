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


def placed_json(dose: Any, site_id: int, tz: str, appointment: Any = None) -> dict[str, Any]:
    """Return a placed dose (and its saved row, if any) as API.md's A object."""
    target = dose.target
    return {
        "id": appointment.id if appointment is not None else None,
        "number": target.number,
        "phase": target.phase,
        "target_date": iso_day(target.target_date),
        "earliest": iso_day(target.earliest),
        "latest": iso_day(target.latest),
        "start": iso_local(dose.start, tz),
        "end": iso_local(dose.end, tz),
        "chair_id": dose.chair_id,
        "site_id": site_id,
        "dose": {"amount": target.amount, "unit": target.unit},
        "infusion_minutes": target.infusion_minutes,
        "observation_minutes": target.observation_minutes,
        "status": appointment.status if appointment is not None else "proposed",
        "moved_reason": dose.moved_reason,
        "flags": [],
    }


def unplaced_json(dose: Any) -> dict[str, Any]:
    return {"number": dose.target.number, "target_date": iso_day(dose.target.target_date), "reason": dose.reason}


def appointment_json(appointment: Any, tz: str, flags: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return a saved appointment as API.md's A object."""
    return {
        "id": appointment.id,
        "number": appointment.dose_number,
        "phase": appointment.phase,
        "target_date": iso_day(appointment.target_date),
        "earliest": iso_day(appointment.earliest),
        "latest": iso_day(appointment.latest),
        "start": iso_local(appointment.start_at, tz),
        "end": iso_local(appointment.end_at, tz),
        "chair_id": appointment.chair_id,
        "site_id": appointment.site_id,
        "patient_id": appointment.patient_id,
        "series_id": appointment.series_id,
        "protocol_code": appointment.protocol.code if appointment.protocol else None,
        "dose": {"amount": appointment.dose_amount, "unit": appointment.dose_unit},
        "infusion_minutes": appointment.infusion_minutes,
        "observation_minutes": appointment.observation_minutes,
        "status": appointment.status,
        "reason": appointment.reason,
        "flags": flags or [],
    }
