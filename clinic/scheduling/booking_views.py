"""The booking wizard: patient → protocol → when and where → preview → confirm."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.auth.access import roles_required
from clinic.domain.regimens import describe_regimen, parse_regimen
from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.patients.queries import search_patients
from clinic.protocols.models import Protocol
from clinic.protocols.services import current_protocol, current_protocols, plan_entry
from clinic.domain.targets import Measures
from clinic.domain.regimens import PlanningError
from clinic.scheduling.booking import Pin, SeriesRequest, book_series, preview_flags, preview_series
from clinic.scheduling.conflicts import BookingProblem
from clinic.scheduling.changes import SingleRequest, book_single
from clinic.scheduling.forms import (
    MAX_ID,
    SeriesForm,
    SingleBookingPageForm,
    attach_problem,
    in_years,
    weekday_choice,
)
from clinic.scheduling.models import Chair, Site
from clinic.scheduling.queries import sites

bp = Blueprint("booking", __name__, url_prefix="/book")
BOOKERS = ("admin", "scheduler")


@bp.get("/")
@roles_required(*BOOKERS)
def start() -> str:
    """Step 1: find the patient."""
    term = request.args.get("q", "").strip()[:100]
    patients = list(db.session.scalars(search_patients(term).limit(25))) if term else []
    return render_template("booking/patient.html", q=term, patients=patients)


def _matches(protocol: Protocol, patient: Patient) -> bool:
    codes = [d.code.upper() for d in patient.diagnoses]
    prefixes = [i["icd10"].upper() for i in protocol.definition.get("indications", [])]
    return any(code.startswith(prefix) for code in codes for prefix in prefixes)


def _first_doses(protocol: Protocol, patient: Patient) -> str:
    """Say the first doses for this patient's measures, or what is missing."""
    try:
        targets = plan_entry(protocol.definition, date.today(), Measures(patient.weight_kg, patient.height_cm), 3)
    except PlanningError as error:
        return f"Cannot dose yet: {error}"
    return ", ".join(f"{t.amount:g} {t.unit}" for t in targets)


@bp.get("/<int:patient_id>")
@roles_required(*BOOKERS)
def protocol_step(patient_id: int) -> str:
    """Step 2: choose the protocol (those for the patient's diagnoses first)."""
    patient = db.get_or_404(Patient, patient_id)
    protocols = current_protocols()
    matching = [p for p in protocols if _matches(p, patient)]
    show_all = request.args.get("all") == "1" or not matching
    others = [p for p in protocols if p not in matching] if show_all else []
    rows = [
        (p, describe_regimen(parse_regimen(p.definition, p.code)), _first_doses(p, patient))
        for p in matching + others
    ]
    return render_template("booking/protocol.html", patient=patient, rows=rows, matching=len(matching),
                           show_all=show_all)


def _site_choices() -> list[Site]:
    return sites()


@bp.route("/<int:patient_id>/<code>", methods=["GET", "POST"])
@roles_required(*BOOKERS)
def details(patient_id: int, code: str) -> str | Response:
    """Step 3 and 4: when and where, then the preview of every dose."""
    patient = db.get_or_404(Patient, patient_id)
    protocol = current_protocol(code) or abort(404, f"No protocol with code {code}.")
    all_sites = _site_choices()
    if not all_sites:
        abort(404, "No site is set up yet.")
    defaults = {"patient_id": patient.id, "protocol_code": code, "site_id": all_sites[0].id,
                "start_date": date.today() + timedelta(days=7), "horizon_days": 365}
    form = SeriesForm(data=defaults)
    plan = None
    flags: dict[int, list] = {}
    if request.method == "POST" and form.validate_on_submit():
        try:
            plan = preview_series(_request_from(form))
            flags = preview_flags(plan, datetime.now(ZoneInfo(plan.site.timezone)).date())
        except BookingProblem as problem:
            attach_problem(form, problem)
    return render_template("booking/details.html", patient=patient, protocol=protocol, form=form, plan=plan,
                           sites=all_sites, chairs=_chairs(all_sites), pins=_pins_json(plan),
                           months=month_grids(plan), flags=flags, summary=describe_regimen(parse_regimen(protocol.definition, code)))


def _chairs(all_sites: list[Site]) -> list[Chair]:
    ids = [s.id for s in all_sites]
    return list(db.session.scalars(sa.select(Chair).where(Chair.site_id.in_(ids), Chair.active.is_(True))
                                   .order_by(Chair.site_id, Chair.position)))


def _request_from(form: SeriesForm, pins: tuple[Pin, ...] = ()) -> SeriesRequest:
    weekday = form.preferred_weekday.data
    return SeriesRequest(
        patient_id=form.patient_id.data, protocol_code=form.protocol_code.data, start_date=form.start_date.data,
        site_id=form.site_id.data, preferred_time=form.preferred_time.data,
        preferred_chair_id=form.preferred_chair_id.data,
        preferred_weekday=weekday_choice(weekday),
        horizon_days=form.horizon_days.data, doses=form.doses.data, pins=pins,
    )


def month_grids(plan: Any) -> list[dict[str, Any]]:
    """Return small month calendars with the series' placed days marked."""
    import calendar as cal

    if plan is None or not plan.placement.placed:
        return []
    marked = {p.day: p.target.number for p in plan.placement.placed}
    # Only the months that hold a dose: a course a year later needs no empty year.
    shown = sorted({(day.year, day.month) for day in marked})
    return [
        {"label": date(year, month, 1).strftime("%B %Y"), "month": month, "marked": marked,
         "weeks": cal.Calendar().monthdatescalendar(year, month)}
        for year, month in shown
    ]


def _pins_json(plan: Any) -> str:
    if plan is None:
        return "[]"
    return json.dumps([{"number": p.target.number, "chair_id": p.chair_id, "start": p.start.isoformat()}
                       for p in plan.placement.placed])


def _parse_pins(raw: str) -> tuple[Pin, ...]:
    try:
        pins = tuple(Pin(int(i["number"]), int(i["chair_id"]), datetime.fromisoformat(i["start"])) for i in json.loads(raw))
    except (ValueError, KeyError, TypeError, RecursionError):
        abort(400, "The confirmed plan was damaged; preview again.")
    if not all(0 < p.chair_id <= MAX_ID and p.start.tzinfo is not None and in_years(p.start) for p in pins):
        abort(400, "The confirmed plan was damaged; preview again.")
    return pins


@bp.post("/<int:patient_id>/<code>/confirm")
@roles_required(*BOOKERS)
def confirm(patient_id: int, code: str) -> str | Response:
    """Step 5: save the previewed series, all or nothing."""
    patient = db.get_or_404(Patient, patient_id)
    protocol = current_protocol(code) or abort(404, f"No protocol with code {code}.")
    form = SeriesForm()
    if not form.validate_on_submit():
        abort(400, "The booking form was incomplete; preview again.")
    pins = _parse_pins(request.form.get("pins", "[]"))
    try:
        series, plan = book_series(_request_from(form, pins), current_user)
    except BookingProblem as problem:
        db.session.rollback()
        attach_problem(form, problem)
        fresh = None
        try:
            fresh = preview_series(_request_from(form))
        except BookingProblem:
            pass
        all_sites = _site_choices()
        return render_template("booking/details.html", patient=patient, protocol=protocol, form=form, plan=fresh,
                               sites=all_sites, chairs=_chairs(all_sites), pins=_pins_json(fresh),
                               months=month_grids(fresh), summary=describe_regimen(parse_regimen(protocol.definition, code))), problem.status
    db.session.commit()
    flash(f"Booked {len(plan.appointments)} appointments of {protocol.name} for {patient.name}"
          + (f"; {len(plan.placement.unplaced)} could not be placed." if plan.placement.unplaced else "."), "success")
    return redirect(url_for("patients.detail", patient_id=patient.id))


@bp.route("/single", methods=["GET", "POST"])
@roles_required(*BOOKERS)
def single() -> str | Response:
    """Book one appointment in a chosen chair and time (from the day schedule)."""
    chair_arg = request.args.get("chair_id", type=int)
    form = SingleBookingPageForm(data={"chair_id": chair_arg if chair_arg and 0 < chair_arg <= MAX_ID else None,
                                       "start": request.args.get("start", "")})
    chair_id = form.chair_id.data
    chair = db.session.get(Chair, chair_id) if isinstance(chair_id, int) and 0 < chair_id <= MAX_ID else None
    if request.method == "POST" and form.validate_on_submit():
        patient = db.session.scalar(sa.select(Patient).where(sa.func.lower(Patient.mrn) == form.mrn.data.strip().lower()))
        if patient is None:
            form.mrn.errors = [f"No patient with MRN {form.mrn.data}."]
        else:
            try:
                appointment = book_single(SingleRequest(
                    patient.id, form.chair_id.data, form.start_instant, form.duration_minutes.data,
                    (form.protocol_code.data or "").strip() or None, form.notes.data or ""), current_user)
            except BookingProblem as problem:
                db.session.rollback()
                attach_problem(form, problem)
            else:
                db.session.commit()
                flash(f"Booked {patient.name} in {appointment.chair.label}.", "success")
                local_day = appointment.start_at.astimezone(ZoneInfo(appointment.chair.site.timezone)).date()
                return redirect(url_for("scheduling.day", site_id=appointment.site_id, date=local_day.isoformat()))
    return render_template("booking/single.html", form=form, chair=chair)
