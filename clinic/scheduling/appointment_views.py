"""The appointment page: what, who, where, when, and the actions on it."""

from __future__ import annotations

from flask import Blueprint, render_template

from clinic.extensions import db
from clinic.scheduling.models import Appointment, Site

bp = Blueprint("appointments", __name__, url_prefix="/appointments")


@bp.get("/<int:appointment_id>")
def detail(appointment_id: int) -> str:
    """Show one appointment."""
    appointment = db.get_or_404(Appointment, appointment_id)
    site = db.session.get(Site, appointment.site_id)
    return render_template("appointments/detail.html", appointment=appointment, site=site, tz=site.timezone)
