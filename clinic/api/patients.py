"""/api/v1/patients."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.orm import joinedload

from clinic.api import bp
from clinic.api.serializers import appointment_json, iso_day, patient_json, screening_json
from clinic.api.util import form_values, json_body, validated_form
from clinic.auth.access import roles_required
from clinic.errors import ApiError
from clinic.extensions import db
from clinic.monitoring.flags import acknowledgements, flag_json, patient_flags, site_today
from clinic.monitoring.screening_forms import ScreeningForm
from clinic.monitoring.services import record_screening
from clinic.patients.forms import DiagnosisForm, PatientForm
from clinic.patients.models import Patient
from clinic.patients.services import PATIENT_FIELDS, DuplicateMRN, create_patient, update_patient
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, Site, TreatmentSeries
from clinic.scheduling.queries import default_site

WRITERS = ("admin", "scheduler")
#: API.md: nurses write screenings; admins may do everything
SCREENING_WRITERS = ("admin", "nurse")


def _diagnoses(payload: dict[str, Any]) -> list[dict[str, Any]]:
    raw = payload.get("diagnoses", [])
    if not isinstance(raw, list):
        raise ApiError(422, "Some fields are not valid.", fields={"diagnoses": ["Must be a list."]})
    parsed = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ApiError(422, "Some fields are not valid.", fields={f"diagnoses[{index}]": ["Must be an object."]})
        try:
            parsed.append(form_values(validated_form(DiagnosisForm, item)))
        except ApiError as error:
            fields = {f"diagnoses[{index}].{name}": errors for name, errors in error.fields.items()}
            raise ApiError(422, "Some fields are not valid.", fields=fields) from None
    return parsed


def _patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise ApiError(404, f"No patient with id {patient_id}.")
    return patient


@bp.post("/patients")
@roles_required(*WRITERS)
def create_patient_route() -> tuple[dict[str, Any], int]:
    """Create a patient with diagnoses."""
    payload = json_body()
    form = validated_form(PatientForm, payload)
    diagnoses = _diagnoses(payload)
    try:
        patient = create_patient(form_values(form), diagnoses, current_user)
    except DuplicateMRN as error:
        raise ApiError(409, str(error), fields={"mrn": [str(error)]}, code="duplicate") from None
    db.session.commit()
    return patient_json(patient), 201


def _record_json(patient: Patient, now: datetime) -> dict[str, Any]:
    """Return the patient's series, upcoming appointments and active flags (five queries and the flags')."""
    series = db.session.scalars(
        sa.select(TreatmentSeries).where(TreatmentSeries.patient_id == patient.id)
        .options(joinedload(TreatmentSeries.protocol)).order_by(TreatmentSeries.day0, TreatmentSeries.id)
    ).all()
    upcoming = db.session.scalars(
        sa.select(Appointment)
        .where(Appointment.patient_id == patient.id, Appointment.end_at >= now,
               Appointment.status.not_in(INACTIVE_STATUSES))
        .options(joinedload(Appointment.protocol)).order_by(Appointment.start_at)
    ).all()
    zones = {site_id: tz for site_id, tz in db.session.execute(sa.select(Site.id, Site.timezone))}
    flags = patient_flags(patient.id, site_today(default_site(), now), now)
    acks = acknowledgements(flag.key for flag in flags)
    flag_bodies = [(flag.appointment_id, flag_json(flag, acks.get(flag.key))) for flag in flags]
    return {
        "series": [
            {"id": s.id, "protocol_code": s.protocol.code, "protocol_version": s.protocol.version,
             "day0": iso_day(s.day0), "status": s.status}
            for s in series
        ],
        "upcoming": [
            appointment_json(a, zones.get(a.site_id, "UTC"), [body for aid, body in flag_bodies if aid == a.id])
            for a in upcoming
        ],
        "flags": [body for _aid, body in flag_bodies],
    }


@bp.get("/patients/<int:patient_id>")
def get_patient(patient_id: int) -> dict[str, Any]:
    """Return a patient with diagnoses, screenings, series, upcoming appointments and active flags."""
    patient = _patient(patient_id)
    return {**patient_json(patient), **_record_json(patient, datetime.now(UTC))}


@bp.post("/patients/<int:patient_id>/screenings")
@roles_required(*SCREENING_WRITERS)
def add_screening(patient_id: int) -> tuple[dict[str, Any], int]:
    """Record a screening result; 422 with field errors."""
    patient = _patient(patient_id)
    form = validated_form(ScreeningForm, json_body(), today=site_today(default_site(), datetime.now(UTC)))
    screening = record_screening(patient, form_values(form), current_user)
    db.session.commit()
    return {**screening_json(screening), "patient_id": patient.id, "notes": screening.notes}, 201


@bp.patch("/patients/<int:patient_id>")
@roles_required(*WRITERS)
def patch_patient(patient_id: int) -> dict[str, Any]:
    """Update a patient's measures or contact details."""
    patient = _patient(patient_id)
    payload = json_body()
    unknown = sorted(set(payload) - set(PATIENT_FIELDS))
    if unknown:
        raise ApiError(422, "Some fields cannot be changed here.", fields={k: ["Unknown or read-only field."] for k in unknown})
    current = {field: getattr(patient, field) for field in PATIENT_FIELDS}
    merged = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in current.items()}
    merged.update(payload)
    form = validated_form(PatientForm, merged)
    values = {k: v for k, v in form_values(form).items() if k in payload}
    try:
        update = update_patient(patient, values, current_user)
    except DuplicateMRN as error:
        raise ApiError(409, str(error), fields={"mrn": [str(error)]}, code="duplicate") from None
    db.session.commit()
    body = patient_json(patient)
    body["changed"] = sorted(update.changes)
    body["redosed"] = [
        {"appointment_id": a.id, "number": a.dose_number, "before": {"amount": old, "unit": a.dose_unit},
         "after": {"amount": new, "unit": a.dose_unit}}
        for a, old, new in update.redosed
    ]
    return body
