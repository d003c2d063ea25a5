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

from clinic.extensions import db
from clinic.patients.forms import DiagnosisForm, PatientForm
from clinic.patients.models import Patient
from clinic.patients.services import DuplicateMRN, add_diagnosis, create_patient, update_patient
from clinic.patients.queries import SORTS, search_patients
from clinic.scheduling.models import Appointment, TreatmentSeries
from clinic.scheduling.queries import default_site

bp = Blueprint("patients", __name__, url_prefix="/patients")


@bp.get("/")
def index() -> str:
    """List patients, searchable by name or MRN, sortable and paginated."""
    term = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    page = db.paginate(
        search_patients(term, sort),
        per_page=current_app.config["PATIENTS_PER_PAGE"],
        error_out=False,
    )
    return render_template("patients/index.html", page=page, q=term, sort=sort)


@bp.get("/<int:patient_id>")
def detail(patient_id: int) -> str:
    """Show one patient: demographics, measures, diagnoses, appointments."""
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
    return render_template(
        "patients/detail.html",
        patient=patient,
        upcoming=upcoming,
        past=past,
        series=series,
        next_dose=next_dose,
        tz=site.timezone if site else "UTC",
    )


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
            changes = update_patient(patient, form_values(form), current_user)
        except DuplicateMRN as error:
            form.mrn.errors = [str(error)]
        else:
            db.session.commit()
            flash("Saved." if changes else "Nothing changed.", "success")
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
