"""/api/v1/appointments/{id}/observations: the nurse's record (vitals, reactions) as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import jsonify
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from clinic.api import bp
from clinic.api.serializers import iso_local
from clinic.api.util import json_body
from clinic.auth.access import roles_required
from clinic.domain.monitoring import ctcae_label
from clinic.errors import ApiError
from clinic.extensions import db
from clinic.monitoring.flags import flag_json
from clinic.monitoring.forms import OBSERVATION_FIELDS, PHASE_FORMS, PhaseForm, VitalsForm, observation_values
from clinic.monitoring.models import Observation
from clinic.monitoring.services import flags_with_acks, observations_of, record_observation
from clinic.scheduling.models import Appointment, Site

#: API.md: nurses write observations; admins everything
RECORDERS = ("admin", "nurse")
#: the key form-wide errors (not tied to one field) are reported under
FORM_ERRORS = "_form"


def _appointment(appointment_id: int) -> tuple[Appointment, str]:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise ApiError(404, f"No appointment with id {appointment_id}.")
    site = db.session.get(Site, appointment.site_id)
    return appointment, site.timezone if site else "UTC"


def _form_data(payload: dict[str, Any]) -> tuple[MultiDict[str, str], dict[str, list[str]]]:
    """Turn JSON values into form data: booleans as yes/no, symptoms as a list of codes."""
    data: MultiDict[str, str] = MultiDict()
    problems: dict[str, list[str]] = {}
    for key, value in payload.items():
        if key == "symptoms" and value is not None:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                problems[key] = ["Must be a list of symptom codes."]
            elif value:
                data.setlist(key, value)
        elif isinstance(value, (list, dict)):
            problems[key] = ["Must be a single value, not a list or object."]
        elif isinstance(value, bool):
            data[key] = "yes" if value else "no"
        elif value is not None:
            data[key] = str(value)
    return data, problems


def _errors(form: Any) -> dict[str, list[str]]:
    return {name or FORM_ERRORS: list(errors) for name, errors in form.errors.items()}


def validated_observation(payload: dict[str, Any]) -> tuple[str, VitalsForm]:
    """Validate an observation with its phase's step form (the page's form); 422 with field errors."""
    data, problems = _form_data(payload)
    phase_form = PhaseForm(formdata=data)
    phase_ok = phase_form.validate()
    phase = phase_form.phase.data if phase_ok else "during"
    form = PHASE_FORMS[phase](formdata=data, meta={"csrf": False})
    form_ok = form.validate()
    for name in OBSERVATION_FIELDS:
        if name not in form and name in data and name not in problems:
            problems[name] = [f"Not recorded at the {phase} phase."]
    if not (phase_ok and form_ok) or problems:
        fields = {**_errors(form), **problems, **_errors(phase_form)}
        raise ApiError(422, "Some fields are not valid.", fields=fields)
    return phase, form


def observation_json(observation: Observation, tz: str) -> dict[str, Any]:
    """Return one observation with its time in the site's offset."""
    grade = observation.reaction_grade
    return {
        "id": observation.id,
        "appointment_id": observation.appointment_id,
        "phase": observation.phase,
        "recorded_at": iso_local(observation.recorded_at, tz),
        "recorded_by_id": observation.recorded_by_id,
        **{name: getattr(observation, name) for name in OBSERVATION_FIELDS},
        "reaction_label": ctcae_label(grade) if grade is not None else None,
    }


@bp.post("/appointments/<int:appointment_id>/observations")
@roles_required(*RECORDERS)
def add_observation(appointment_id: int) -> tuple[dict[str, Any], int]:
    """Record one observation; 201 with the flags now on the appointment."""
    payload = json_body()
    appointment, tz = _appointment(appointment_id)
    phase, form = validated_observation(payload)
    now = datetime.now(UTC)
    observation = record_observation(appointment, observation_values(form, phase), current_user, now)
    views = flags_with_acks([appointment], now.astimezone(ZoneInfo(tz)).date()).get(appointment.id, [])
    db.session.commit()
    return {"id": observation.id, "flags": [flag_json(view.flag, view.ack) for view in views]}, 201


@bp.get("/appointments/<int:appointment_id>/observations")
def list_observations(appointment_id: int) -> Response:
    """Return the appointment's observations, oldest first."""
    appointment, tz = _appointment(appointment_id)
    return jsonify([observation_json(observation, tz) for observation in observations_of(appointment)])
