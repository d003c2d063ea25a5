"""Patient use cases: create, update measures, add diagnoses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.extensions import db
from clinic.patients.models import Diagnosis, Patient

PATIENT_FIELDS = (
    "mrn", "given_name", "family_name", "birth_date", "sex", "weight_kg", "height_cm",
    "measured_on", "allergies", "phone", "email",
)


class DuplicateMRN(ValueError):
    """Another patient already has this MRN."""


def _check_mrn(mrn: str, patient_id: int | None = None) -> None:
    query = sa.select(Patient.id).where(sa.func.lower(Patient.mrn) == mrn.lower())
    if patient_id is not None:
        query = query.where(Patient.id != patient_id)
    if db.session.scalar(query) is not None:
        raise DuplicateMRN(f"MRN {mrn} belongs to another patient.")


def create_patient(values: dict[str, Any], diagnoses: list[dict[str, Any]], by: User | None) -> Patient:
    """Add a patient with diagnoses; raise DuplicateMRN."""
    _check_mrn(values["mrn"])
    patient = Patient(**{k: values.get(k) for k in PATIENT_FIELDS if values.get(k) is not None})
    if patient.weight_kg is not None and patient.measured_on is None:
        patient.measured_on = values.get("today") or date.today()
    for diagnosis in diagnoses:
        patient.diagnoses.append(Diagnosis(code=diagnosis["code"], label=diagnosis["label"], since=diagnosis.get("since")))
    db.session.add(patient)
    db.session.flush()
    return patient


@dataclass
class PatientUpdate:
    """What an update changed: fields, and future doses re-computed from new measures."""

    changes: dict[str, tuple[Any, Any]]
    redosed: list[tuple[Any, float | None, float]] = field(default_factory=list)


def update_patient(patient: Patient, values: dict[str, Any], by: User | None,
                   now: datetime | None = None) -> PatientUpdate:
    """Apply changed fields; a new weight or height re-doses future weight-based doses."""
    if values.get("mrn") and values["mrn"] != patient.mrn:
        _check_mrn(values["mrn"], patient.id)
    changes: dict[str, tuple[Any, Any]] = {}
    for name in PATIENT_FIELDS:
        if name in values and getattr(patient, name) != values[name]:
            changes[name] = (getattr(patient, name), values[name])
            setattr(patient, name, values[name])
    db.session.flush()
    result = PatientUpdate(changes)
    if {"weight_kg", "height_cm"} & set(changes):
        from clinic.scheduling.booking import recompute_doses

        result.redosed = recompute_doses(patient, now or datetime.now(UTC))
    return result


def add_diagnosis(patient: Patient, code: str, label: str, since: date | None) -> Diagnosis:
    """Record a diagnosis for the patient."""
    diagnosis = Diagnosis(patient_id=patient.id, code=code, label=label, since=since)
    db.session.add(diagnosis)
    db.session.flush()
    return diagnosis
