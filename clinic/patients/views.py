"""Patient list and patient page."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from sqlalchemy.orm import joinedload

from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.patients.queries import SORTS, search_patients
from clinic.scheduling.models import Appointment
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
    site = default_site()
    return render_template(
        "patients/detail.html",
        patient=patient,
        upcoming=upcoming,
        past=past,
        tz=site.timezone if site else "UTC",
    )
