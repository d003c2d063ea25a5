"""The appointment page (with the nurse's infusion record) and the scheduler's changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.auth.access import roles_required
from clinic.extensions import db
from clinic.monitoring.forms import STEP_FORMS, SYMPTOM_LABELS, step_form
from clinic.monitoring.services import InfusionRecord, infusion_record
from clinic.scheduling.changes import MovePlan, apply_move, change_status, plan_move
from clinic.scheduling.conflicts import BookingProblem
from clinic.scheduling.dayview import FLAG_SYMBOLS
from clinic.scheduling.forms import GivenForm, MoveForm, StatusForm, attach_problem
from clinic.scheduling.models import Appointment, Chair, Site

bp = Blueprint("appointments", __name__, url_prefix="/appointments")
BOOKERS = ("admin", "scheduler")
NURSE_STATUSES = {"checked_in", "in_chair", "completed", "no_show"}


def load_appointment(appointment_id: int) -> tuple[Appointment, Site]:
    """Return the appointment and its site, or answer 404."""
    appointment = db.get_or_404(Appointment, appointment_id)
    site = db.session.get(Site, appointment.site_id)
    assert site is not None
    return appointment, site


def site_clock(site: Site) -> tuple[datetime, date]:
    """Return the current instant and the site's local day."""
    now = datetime.now(UTC)
    return now, now.astimezone(ZoneInfo(site.timezone)).date()


def current_step(appointment: Appointment, record: InfusionRecord) -> str | None:
    """Return the record step the nurse fills in next (None when there is none)."""
    if appointment.status == "scheduled":
        return "check_in"
    if appointment.status == "checked_in":
        return "start" if record.of_phase("pre") else "precheck"
    if appointment.status == "in_chair":
        if appointment.actual_end_at is None:
            return "during"
        return "complete" if record.of_phase("post") else "post"
    return None


def _step_defaults(step: str, appointment: Appointment) -> dict[str, Any]:
    if step in ("precheck", "during", "post"):
        return {"consciousness_alert": True, "on_oxygen": False}
    if step == "complete":
        return {"administered_amount": appointment.dose_amount}
    return {}


def _record_context(appointment: Appointment, site: Site, forms: dict[str, Any]) -> dict[str, Any]:
    now, today = site_clock(site)
    record = infusion_record(appointment, today, now)
    zone = ZoneInfo(site.timezone)
    steps = {step: forms[step] if step in forms else step_form(step, zone, data=_step_defaults(step, appointment))
             for step in STEP_FORMS}
    posted = next((step for step in STEP_FORMS if step in forms), None)
    return {"record": record, "steps": steps, "current": current_step(appointment, record), "posted": posted,
            "flag_symbols": FLAG_SYMBOLS, "symptom_labels": SYMPTOM_LABELS}


def render_detail(appointment: Appointment, site: Site, status: int = 200, **forms: Any) -> tuple[str, int]:
    """Render the appointment page; ``forms`` replaces the forms that failed (they keep their input)."""
    local_start = appointment.start_at.astimezone(ZoneInfo(site.timezone))
    chairs = list(db.session.scalars(
        sa.select(Chair).where(Chair.site_id == site.id, Chair.active.is_(True)).order_by(Chair.position)))
    move = forms.get("move") or MoveForm(data={"day": local_start.date(), "start_time": local_start.time(),
                                               "chair_id": appointment.chair_id})
    given = forms.get("given") or GivenForm(data={"day": local_start.date(), "start_time": local_start.time()})
    status_form = forms.get("status_form") or StatusForm()
    return render_template("appointments/detail.html", appointment=appointment, site=site, tz=site.timezone,
                           chairs=chairs, move=move, given=given, status_form=status_form,
                           plan=forms.get("plan"), **_record_context(appointment, site, forms)), status


@bp.get("/<int:appointment_id>")
def detail(appointment_id: int) -> tuple[str, int]:
    """Show one appointment with the actions the user's role allows."""
    appointment, site = load_appointment(appointment_id)
    return render_detail(appointment, site)


def _instant(day: date, start_time: time, site: Site) -> datetime:
    return datetime.combine(day, start_time, ZoneInfo(site.timezone)).astimezone(UTC)


@bp.post("/<int:appointment_id>/move")
@roles_required(*BOOKERS)
def move(appointment_id: int) -> Response | tuple[str, int]:
    """Preview a move (old vs new dates of later doses); save it on confirm."""
    appointment, site = load_appointment(appointment_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return render_detail(appointment, site, 422, move=form)
    return _move_or_preview(appointment, site, _instant(form.day.data, form.start_time.data, site),
                            form.chair_id.data, given=False, form=form)


@bp.post("/<int:appointment_id>/given")
@roles_required(*BOOKERS)
def given(appointment_id: int) -> Response | tuple[str, int]:
    """Record that the dose was given on another date; re-plan the later doses."""
    appointment, site = load_appointment(appointment_id)
    form = GivenForm()
    if not form.validate_on_submit():
        return render_detail(appointment, site, 422, given=form)
    return _move_or_preview(appointment, site, _instant(form.day.data, form.start_time.data, site),
                            appointment.chair_id, given=True, form=form)


def _move_or_preview(appointment: Appointment, site: Site, start: datetime, chair_id: int, given: bool,
                     form: MoveForm | GivenForm) -> Response | tuple[str, int]:
    key = "given" if given else "move"
    try:
        plan: MovePlan = plan_move(appointment, start, chair_id, given=given)
        if request.form.get("confirm") != "yes":
            return render_detail(appointment, site, 200, **{key: form, "plan": plan})
        replanned = apply_move(plan, current_user, datetime.now(UTC))
    except BookingProblem as problem:
        db.session.rollback()
        attach_problem(form, problem)
        return render_detail(appointment, site, problem.status, **{key: form})
    db.session.commit()
    moved = len([c for c in replanned if c.unplaced_reason is None])
    held = len(replanned) - moved
    message = "Dose recorded as given." if given else "Appointment moved."
    if moved:
        message += f" {moved} later dose{'s' if moved != 1 else ''} re-planned."
    if held:
        message += f" {held} could not be re-planned and are on hold."
    flash(message, "success" if not held else "warning")
    return redirect(url_for("appointments.detail", appointment_id=appointment.id))


@bp.post("/<int:appointment_id>/status")
@roles_required(*BOOKERS, "nurse")
def status(appointment_id: int) -> Response | tuple[str, int]:
    """Change the status (schedulers: cancel, hold; nurses: check-in, start, complete, no-show)."""
    appointment, site = load_appointment(appointment_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return render_detail(appointment, site, 422, status_form=form)
    wanted = form.status.data
    if not (current_user.role in BOOKERS or (current_user.role == "nurse" and wanted in NURSE_STATUSES)):
        abort(403)
    try:
        change_status(appointment, wanted, form.reason.data or "", current_user, datetime.now(UTC))
    except BookingProblem as problem:
        db.session.rollback()
        attach_problem(form, problem)
        return render_detail(appointment, site, problem.status, status_form=form)
    db.session.commit()
    flash(f"Status is now {wanted.replace('_', ' ')}.", "success")
    return redirect(url_for("appointments.detail", appointment_id=appointment.id))
