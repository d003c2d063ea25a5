"""/api/v1/appointments: book one, read, change (move, status)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_login import current_user

from clinic.api import bp
from clinic.api.serializers import appointment_json
from clinic.api.util import json_body, validated_form
from clinic.auth.access import roles_required
from clinic.errors import ApiError
from clinic.extensions import db
from clinic.scheduling.changes import SingleRequest, apply_move, book_single, change_status, plan_move
from clinic.scheduling.forms import MAX_ID, SingleAppointmentForm, in_years
from clinic.scheduling.models import APPOINTMENT_STATUSES, Appointment, Site

BOOKERS = ("admin", "scheduler")
#: statuses a nurse may set (check-in, start, complete, no-show)
NURSE_STATUSES = {"checked_in", "in_chair", "completed", "no_show"}


def _appointment(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise ApiError(404, f"No appointment with id {appointment_id}.")
    return appointment


def _tz(appointment: Appointment) -> str:
    site = db.session.get(Site, appointment.site_id)
    return site.timezone if site else "UTC"


@bp.post("/appointments")
@roles_required(*BOOKERS)
def book_appointment() -> tuple[dict[str, Any], int]:
    """Book one appointment; 409 if the chair or patient is busy, 422 if closed."""
    form = validated_form(SingleAppointmentForm, json_body())
    appointment = book_single(
        SingleRequest(form.patient_id.data, form.chair_id.data, form.start_instant, form.duration_minutes.data,
                      (form.protocol_code.data or "").strip() or None, form.notes.data or ""),
        current_user,
    )
    db.session.commit()
    return appointment_json(appointment, _tz(appointment)), 201


@bp.get("/appointments/<int:appointment_id>")
def get_appointment(appointment_id: int) -> dict[str, Any]:
    """Return one appointment."""
    appointment = _appointment(appointment_id)
    return appointment_json(appointment, _tz(appointment))


def _authorise_patch(payload: dict[str, Any]) -> None:
    moving = "start" in payload or "chair_id" in payload
    status = payload.get("status")
    if current_user.role in BOOKERS:
        return
    if current_user.role == "nurse" and not moving and status in NURSE_STATUSES:
        return
    raise ApiError(403, "Your role may not make this change.")


def _parse_patch(payload: dict[str, Any], appointment: Appointment) -> tuple[datetime | None, int | None, str | None, str]:
    fields: dict[str, list[str]] = {}
    start = chair_id = status = None
    if "start" in payload:
        try:
            start = datetime.fromisoformat(str(payload["start"]))
            if start.tzinfo is None:
                fields["start"] = ["Needs a UTC offset, e.g. +01:00."]
            elif not in_years(start):
                fields["start"] = ["Use a year between 1900 and 2999."]
        except ValueError:
            fields["start"] = ["Use an ISO 8601 instant like 2027-01-12T09:00:00+01:00."]
    if "chair_id" in payload:
        if isinstance(payload["chair_id"], bool) or not isinstance(payload["chair_id"], int) \
                or not 1 <= payload["chair_id"] <= MAX_ID:
            fields["chair_id"] = ["Must be a chair id."]
        else:
            chair_id = payload["chair_id"]
    if "status" in payload:
        if payload["status"] not in APPOINTMENT_STATUSES:
            fields["status"] = [f"Use one of {', '.join(APPOINTMENT_STATUSES)}."]
        else:
            status = payload["status"]
    reason = payload.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 500:
        fields["reason"] = ["Up to 500 characters of text."]
    unknown = sorted(set(payload) - {"start", "chair_id", "status", "reason"})
    for key in unknown:
        fields[key] = ["Unknown field."]
    if fields:
        raise ApiError(422, "Some fields are not valid.", fields=fields)
    return start, chair_id, status, reason if isinstance(reason, str) else ""


@bp.patch("/appointments/<int:appointment_id>")
def patch_appointment(appointment_id: int) -> dict[str, Any]:
    """Move an appointment or change its status; later doses are re-planned."""
    payload = json_body()
    _authorise_patch(payload)
    appointment = _appointment(appointment_id)
    start, chair_id, status, reason = _parse_patch(payload, appointment)
    now = datetime.now(UTC)
    replanned = []
    if start is not None or chair_id is not None:
        plan = plan_move(appointment, start or appointment.start_at, chair_id or appointment.chair_id)
        replanned = apply_move(plan, current_user, now)
        if reason:
            appointment.reason = reason
    if status is not None and status != appointment.status:
        change_status(appointment, status, reason, current_user, now)
    db.session.commit()
    tz = _tz(appointment)
    body = appointment_json(appointment, tz)
    body["replanned"] = [
        {**appointment_json(c.appointment, tz), "previous_start": c.old_start.astimezone(UTC).isoformat(),
         "unplaced_reason": c.unplaced_reason}
        for c in replanned
    ]
    return body
