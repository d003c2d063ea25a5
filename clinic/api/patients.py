"""/api/v1/patients."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from clinic.api import bp
from clinic.api.serializers import patient_json
from clinic.api.util import form_values, json_body, validated_form
from clinic.auth.access import roles_required
from clinic.errors import ApiError
from clinic.extensions import db
from clinic.patients.forms import DiagnosisForm, PatientForm
from clinic.patients.models import Patient
from clinic.patients.services import PATIENT_FIELDS, DuplicateMRN, create_patient, update_patient

WRITERS = ("admin", "scheduler")


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


@bp.get("/patients/<int:patient_id>")
def get_patient(patient_id: int) -> dict[str, Any]:
    """Return a patient with diagnoses and screenings."""
    return patient_json(_patient(patient_id))


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
        changes = update_patient(patient, values, current_user)
    except DuplicateMRN as error:
        raise ApiError(409, str(error), fields={"mrn": [str(error)]}, code="duplicate") from None
    db.session.commit()
    body = patient_json(patient)
    body["changed"] = sorted(changes)
    return body
