"""The nurse's infusion record on the appointment page: one POST per step, and flag acknowledgement.

Each step parses its form, calls one service, commits once and returns to
the record; a refused step shows the appointment page again with the
nurse's input and the error on the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.auth.access import roles_required
from clinic.extensions import db
from clinic.monitoring.forms import (
    CheckInForm,
    CompleteForm,
    EndForm,
    StartForm,
    VitalsForm,
    observation_values,
    step_form,
)
from clinic.monitoring.services import (
    acknowledge_key,
    complete_infusion,
    end_infusion,
    observation_until,
    record_observation,
    start_infusion,
)
from clinic.scheduling.appointment_views import load_appointment, render_detail, site_clock
from clinic.scheduling.changes import change_status
from clinic.scheduling.conflicts import BookingProblem
from clinic.scheduling.forms import attach_problem
from clinic.scheduling.models import Appointment, Site
from clinic.templating import format_time

bp = Blueprint("record", __name__, url_prefix="/appointments/<int:appointment_id>")
#: API.md: nurses write observations and appointment status; admins everything
RECORDERS = ("admin", "nurse")
#: the front desk checks patients in too
CHECKERS_IN = ("admin", "scheduler", "nurse")
ACKNOWLEDGERS = ("admin", "scheduler", "nurse")

#: a step's work: (appointment, site, validated form, now) -> the message for staff
Action = Callable[[Appointment, Site, Any, datetime], str]


def _back(appointment: Appointment, anchor: str = "record") -> Response:
    return redirect(url_for("appointments.detail", appointment_id=appointment.id, _anchor=anchor))


def _run_step(appointment_id: int, step: str, action: Action) -> Response | tuple[str, int]:
    """Validate the step's form, run it, commit, and go back to the record (or show what is wrong)."""
    appointment, site = load_appointment(appointment_id)
    form = step_form(step, ZoneInfo(site.timezone), submitted=True)
    if not form.validate_on_submit():
        return render_detail(appointment, site, 422, **{step: form})
    now, _today = site_clock(site)
    try:
        message = action(appointment, site, form, now)
    except BookingProblem as problem:
        db.session.rollback()
        attach_problem(form, problem)
        return render_detail(appointment, site, problem.status, **{step: form})
    db.session.commit()
    flash(message, "success")
    return _back(appointment)


@bp.get("/record/<step>")
def back_to_record(appointment_id: int, step: str) -> Response:
    """Send a reload of a step's address back to the appointment page."""
    appointment, _site = load_appointment(appointment_id)
    return _back(appointment)


@bp.post("/record/check-in")
@roles_required(*CHECKERS_IN)
def check_in(appointment_id: int) -> Response | tuple[str, int]:
    """Check the patient in."""

    def action(appointment: Appointment, site: Site, form: CheckInForm, now: datetime) -> str:
        change_status(appointment, "checked_in", "", current_user, now)
        return f"Checked in at {format_time(now, site.timezone)}."

    return _run_step(appointment_id, "check_in", action)


def _observation(phase: str, done: str) -> Action:
    def action(appointment: Appointment, site: Site, form: VitalsForm, now: datetime) -> str:
        observation = record_observation(appointment, observation_values(form, phase), current_user, now)
        return f"{done} at {format_time(observation.recorded_at, site.timezone)}."

    return action


@bp.post("/record/pre-check")
@roles_required(*RECORDERS)
def precheck(appointment_id: int) -> Response | tuple[str, int]:
    """Record the pre-check: vitals, weight, infection question."""
    return _run_step(appointment_id, "precheck", _observation("pre", "Pre-check recorded"))


@bp.post("/record/start")
@roles_required(*RECORDERS)
def start(appointment_id: int) -> Response | tuple[str, int]:
    """Start the infusion (refused while a critical flag is unacknowledged)."""

    def action(appointment: Appointment, site: Site, form: StartForm, now: datetime) -> str:
        started = start_infusion(appointment, form.started_at.instant, current_user, now)
        return f"Infusion started at {format_time(started, site.timezone)}."

    return _run_step(appointment_id, "start", action)


@bp.post("/record/during")
@roles_required(*RECORDERS)
def during(appointment_id: int) -> Response | tuple[str, int]:
    """Record a set of vitals during the infusion."""
    return _run_step(appointment_id, "during", _observation("during", "Vitals recorded"))


@bp.post("/record/end")
@roles_required(*RECORDERS)
def end(appointment_id: int) -> Response | tuple[str, int]:
    """Record the end of the infusion; the observation time starts."""

    def action(appointment: Appointment, site: Site, form: EndForm, now: datetime) -> str:
        ended = end_infusion(appointment, form.ended_at.instant, current_user, now)
        until = observation_until(appointment)
        observe = f"; observe until {format_time(until, site.timezone)}" if until and until > ended else ""
        return f"Infusion ended at {format_time(ended, site.timezone)}{observe}."

    return _run_step(appointment_id, "end", action)


@bp.post("/record/post")
@roles_required(*RECORDERS)
def post_observation(appointment_id: int) -> Response | tuple[str, int]:
    """Record the post-infusion observation: CTCAE grade, symptoms, actions."""
    return _run_step(appointment_id, "post", _observation("post", "Post-infusion observation recorded"))


@bp.post("/record/complete")
@roles_required(*RECORDERS)
def complete(appointment_id: int) -> Response | tuple[str, int]:
    """Discharge: dose given, lot number (early discharge needs a reason)."""

    def action(appointment: Appointment, site: Site, form: CompleteForm, now: datetime) -> str:
        values = {"administered_amount": form.administered_amount.data, "lot_number": form.lot_number.data,
                  "discharged_at": form.discharged_at.instant, "override_reason": form.override_reason.data}
        discharged = complete_infusion(appointment, values, current_user, now)
        return f"Completed: discharged at {format_time(discharged, site.timezone)}."

    return _run_step(appointment_id, "complete", action)


@bp.post("/flags/<path:flag_key>/acknowledge")
@roles_required(*ACKNOWLEDGERS)
def acknowledge(appointment_id: int, flag_key: str) -> Response:
    """Acknowledge one of the appointment's flags (records who and when)."""
    appointment, site = load_appointment(appointment_id)
    _now, today = site_clock(site)
    flag = acknowledge_key(appointment, flag_key, current_user, today)
    if flag is None:
        flash("That flag is no longer raised: nothing to acknowledge.", "warning")
        return _back(appointment, "flags")
    db.session.commit()
    flash(f"Acknowledged: {flag.message}", "success")
    return _back(appointment, "flags")
