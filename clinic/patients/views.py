"""Patient list and patient page."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from clinic.api.util import form_values
from clinic.auth.access import roles_required
from clinic.domain.monitoring import ctcae_label, screening_name
from clinic.extensions import db
from clinic.monitoring.flags import flag_rows, patient_flags, patient_reactions, screening_overview, site_today
from clinic.monitoring.screening_forms import RechallengeForm, ScreeningForm
from clinic.monitoring.services import record_screening
from clinic.patients.forms import DiagnosisForm, PatientForm
from clinic.patients.models import Patient
from clinic.patients.services import DuplicateMRN, add_diagnosis, create_patient, update_patient
from clinic.patients.queries import SORTS, search_patients
from clinic.protocols.models import Protocol
from clinic.scheduling.dayview import FLAG_SYMBOLS
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, TreatmentSeries
from clinic.scheduling.queries import default_site
from clinic.templating import format_day

bp = Blueprint("patients", __name__, url_prefix="/patients")
#: who may record screenings (API.md: nurses; admins may do everything)
SCREENING_WRITERS = ("admin", "nurse")


@bp.get("/")
def index() -> str:
    """List patients, searchable by name or MRN, sortable and paginated."""
    term = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    page_number = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    page = db.paginate(
        search_patients(term, sort),
        page=page_number,
        per_page=current_app.config["PATIENTS_PER_PAGE"],
        error_out=False,
    )
    return render_template("patients/index.html", page=page, q=term, sort=sort)


def _treated_protocols(series: list[TreatmentSeries], upcoming: list[Appointment]) -> list[Protocol]:
    """Return the protocols of the active series and of upcoming active appointments."""
    found = {s.protocol.id: s.protocol for s in series if s.status == "active"}
    for appointment in upcoming:
        if appointment.protocol is not None and appointment.status not in INACTIVE_STATUSES:
            found.setdefault(appointment.protocol.id, appointment.protocol)
    return list(found.values())


@bp.get("/<int:patient_id>")
def detail(patient_id: int) -> str:
    """Show one patient: measures, diagnoses, screenings, series, appointments, reactions, flags."""
    patient = db.get_or_404(Patient, patient_id)
    now = datetime.now(UTC)
    appointments = list(
        db.session.scalars(
            sa.select(Appointment)
            .where(Appointment.patient_id == patient.id)
            .options(joinedload(Appointment.protocol), joinedload(Appointment.chair))
            .order_by(Appointment.start_at)
        )
    )
    upcoming = [a for a in appointments if a.end_at >= now]
    past = [a for a in appointments if a.end_at < now][::-1]
    series = list(
        db.session.scalars(
            sa.select(TreatmentSeries)
            .where(TreatmentSeries.patient_id == patient.id)
            .options(joinedload(TreatmentSeries.protocol))
            .order_by(TreatmentSeries.created_at.desc())
        )
    )
    next_dose = {
        s.id: next((a for a in upcoming if a.series_id == s.id and a.status not in ("cancelled", "no_show")), None)
        for s in series
    }
    site = default_site()
    tz = site.timezone if site else "UTC"
    today = site_today(site, now)
    screenings = screening_overview(_treated_protocols(series, upcoming), appointments, patient.screenings, today, tz)
    return render_template(
        "patients/detail.html",
        patient=patient,
        upcoming=upcoming,
        past=past,
        series=series,
        next_dose=next_dose,
        tz=tz,
        screenings=screenings,
        flags=flag_rows(patient_flags(patient.id, today, now), {a.id: a for a in appointments}),
        reactions=patient_reactions(patient.id),
        rechallenge_form=RechallengeForm(),
        flag_symbols=FLAG_SYMBOLS,
        ctcae_label=ctcae_label,
        screening_name=screening_name,
    )


@bp.route("/<int:patient_id>/screenings/new", methods=["GET", "POST"])
@roles_required(*SCREENING_WRITERS)
def add_screening(patient_id: int) -> Response | tuple[str, int]:
    """Record a screening result (nurses and admins)."""
    patient = db.get_or_404(Patient, patient_id)
    form = ScreeningForm(today=site_today(default_site(), datetime.now(UTC)))
    if form.validate_on_submit():
        screening = record_screening(patient, form_values(form), current_user)
        db.session.commit()
        name, value = screening_name(screening.test), f", {screening.value:g}" if screening.value is not None else ""
        flash(
            f"{name[:1].upper()}{name[1:]} recorded: {screening.result}{value}, "
            f"collected {format_day(screening.collected_on)}.",
            "success",
        )
        return redirect(url_for("patients.detail", patient_id=patient.id, _anchor="screenings"))
    status = 422 if request.method == "POST" else 200
    return render_template("monitoring/screening_form.html", form=form, patient=patient), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin", "scheduler")
def create() -> str | Response:
    """Register a new patient with a first diagnosis."""
    form = PatientForm()
    diagnosis = DiagnosisForm(prefix="diagnosis")
    if request.method == "POST":
        patient_ok = form.validate_on_submit()
        diagnosis_ok = diagnosis.validate()
        if patient_ok and diagnosis_ok:
            try:
                patient = create_patient(form_values(form), [form_values(diagnosis)], current_user)
            except DuplicateMRN as error:
                form.mrn.errors = [str(error)]
            else:
                db.session.commit()
                flash(f"Patient {patient.name} registered.", "success")
                return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, diagnosis=diagnosis, patient=None)


@bp.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@roles_required("admin", "scheduler")
def edit(patient_id: int) -> str | Response:
    """Edit demographics, measures and contact details."""
    patient = db.get_or_404(Patient, patient_id)
    form = PatientForm(obj=patient)
    if form.validate_on_submit():
        try:
            update = update_patient(patient, form_values(form), current_user)
        except DuplicateMRN as error:
            form.mrn.errors = [str(error)]
        else:
            db.session.commit()
            flash("Saved." if update.changes else "Nothing changed.", "success")
            if update.redosed:
                count = len(update.redosed)
                flash(f"{count} future dose{'s' if count != 1 else ''} re-computed for the new measures.", "info")
            return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, diagnosis=None, patient=patient)


@bp.route("/<int:patient_id>/diagnoses", methods=["GET", "POST"])
@roles_required("admin", "scheduler")
def add_diagnosis_page(patient_id: int) -> str | Response:
    """Add a diagnosis (ICD-10) to the patient."""
    patient = db.get_or_404(Patient, patient_id)
    form = DiagnosisForm()
    if form.validate_on_submit():
        add_diagnosis(patient, form.code.data, form.label.data, form.since.data)
        db.session.commit()
        flash(f"Diagnosis {form.code.data} added.", "success")
        return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/diagnosis.html", form=form, patient=patient)
