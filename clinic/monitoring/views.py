"""The flags worklist: a site's flags for one day, acknowledgements, rechallenge clearances."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.auth.access import roles_required
from clinic.extensions import db
from clinic.monitoring.flags import day_worklist, open_flag_total, site_today, user_names
from clinic.monitoring.models import Observation
from clinic.monitoring.screening_forms import AcknowledgeForm, RechallengeForm
from clinic.monitoring.services import acknowledge, clear_rechallenge, find_flag
from clinic.scheduling.dayargs import ScheduleQueryError, resolve_schedule_query
from clinic.scheduling.dayview import FLAG_SYMBOLS
from clinic.scheduling.models import Appointment, Site
from clinic.scheduling.queries import default_site, sites

bp = Blueprint("monitoring", __name__, url_prefix="/flags")

#: roles that may acknowledge a flag (everyone who works with patients; not viewers)
ACKNOWLEDGERS = ("admin", "scheduler", "nurse")
SEVERITY_HEADINGS = {"critical": "Critical", "warning": "Warning", "info": "Information"}


@bp.app_context_processor
def _open_flag_count() -> dict[str, int]:
    """Give every page the number of open critical/warning flags today at the default site."""
    if not current_user.is_authenticated:
        return {"open_flag_count": 0}
    if "open_flag_count" not in g:
        site = default_site()
        if site is None:
            g.open_flag_count = 0
        else:
            today = site_today(site, datetime.now(UTC))
            g.open_flag_count = open_flag_total(day_worklist(site, today, today))
    return {"open_flag_count": g.open_flag_count}


def _site_and_day(now: datetime) -> tuple[Site, date]:
    """Return the requested site and day; 400 when malformed, 404 when unknown."""
    try:
        return resolve_schedule_query(request.args.get("site_id"), request.args.get("date"), now)
    except ScheduleQueryError as error:
        abort(404 if error.field is None else 400, error.message)


@bp.get("/")
def flags() -> str:
    """Show a site's flags for one day (today by default), by severity then time."""
    now = datetime.now(UTC)
    site, day = _site_and_day(now)
    today = site_today(site, now)
    rows = day_worklist(site, day, today)
    default = default_site()
    if day == today and default is not None and default.id == site.id:
        g.open_flag_count = open_flag_total(rows)  # the nav count needs no second pass
    groups = [(severity, [r for r in rows if r.flag.severity == severity]) for severity in SEVERITY_HEADINGS]
    return render_template(
        "monitoring/flags.html", site=site, day=day, today=today, rows=rows, sites=sites(),
        groups=[(severity, items) for severity, items in groups if items], open_total=open_flag_total(rows),
        can_acknowledge=current_user.has_role(*ACKNOWLEDGERS), headings=SEVERITY_HEADINGS,
        flag_symbols=FLAG_SYMBOLS,
    )


def _back_to_worklist(form: AcknowledgeForm) -> Response:
    day = form.day.data.isoformat() if form.day.data else None
    return redirect(url_for("monitoring.flags", site_id=form.site_id.data, date=day))


@bp.post("/acknowledge")
@roles_required(*ACKNOWLEDGERS)
def acknowledge_flag() -> Response:
    """Record who acknowledged one flag, and when; then back to the worklist."""
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        abort(400, "The acknowledgement did not name a flag. Reload the worklist and try again.")
    appointment = db.get_or_404(Appointment, form.appointment_id.data)
    today = site_today(db.session.get(Site, appointment.site_id), datetime.now(UTC))
    flag = find_flag(appointment, form.key.data, today)
    if flag is None:
        flash("That flag is no longer raised: nothing to acknowledge.", "warning")
        return _back_to_worklist(form)
    ack = acknowledge(flag, current_user)
    db.session.commit()
    if ack.acknowledged_by_id == current_user.id:
        flash(f"Acknowledged: {flag.message}", "success")
    else:
        who = user_names([ack.acknowledged_by_id]).get(ack.acknowledged_by_id, "someone")
        flash(f"Already acknowledged by {who}: {flag.message}", "info")
    return _back_to_worklist(form)


@bp.post("/rechallenge/<int:appointment_id>")
@roles_required("admin")
def clear_rechallenge_view(appointment_id: int) -> Response:
    """Record a prescriber's clearance to give the drug again after a grade >= 3 reaction."""
    appointment = db.get_or_404(Appointment, appointment_id)
    back = url_for("patients.detail", patient_id=appointment.patient_id, _anchor="reactions")
    grade = db.session.scalar(
        sa.select(sa.func.max(Observation.reaction_grade)).where(Observation.appointment_id == appointment.id)
    )
    if grade is None or grade < 3:
        flash("Only a grade 3 or worse reaction needs a rechallenge clearance.", "error")
        return redirect(back)
    form = RechallengeForm()
    if not form.validate_on_submit():
        problems = [error for errors in form.errors.values() for error in errors]
        flash(f"Rechallenge not cleared: {' '.join(problems)}", "error")
        return redirect(back)
    clear_rechallenge(appointment, current_user, form.note.data)
    db.session.commit()
    flash("Rechallenge cleared: the do-not-rechallenge flag is lifted.", "success")
    return redirect(back)
