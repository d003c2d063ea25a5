"""Admin pages for a site's closures: list, add, remove, load public holidays."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.admin.forms import ClosureForm
from clinic.admin.services import (
    ClosureNotRemovable,
    DuplicateClosure,
    NoHolidayCountry,
    add_closure,
    closure_overview,
    load_public_holidays,
    remove_closure,
)
from clinic.admin.views import bp
from clinic.auth.access import roles_required
from clinic.extensions import db
from clinic.scheduling.closures import apply_closure_rebook, plan_closure_rebook
from clinic.scheduling.conflicts import BookingProblem
from clinic.scheduling.models import Closure, Site
from clinic.templating import format_day


def _site_today(site: Site) -> date:
    return datetime.now(ZoneInfo(site.timezone)).date()


def _closures_page(site: Site, form: ClosureForm) -> str:
    today = _site_today(site)
    return render_template(
        "admin/closures.html", site=site, form=form, today=today, overview=closure_overview(site, today)
    )


def _back_to_closures(site_id: int) -> Response:
    return redirect(url_for("admin.closures", site_id=site_id))


@bp.get("/sites/<int:site_id>/closures")
@roles_required("admin")
def closures(site_id: int) -> str:
    """List upcoming and recent closures with the appointments each hits."""
    site = db.get_or_404(Site, site_id)
    return _closures_page(site, ClosureForm())


@bp.post("/sites/<int:site_id>/closures")
@roles_required("admin")
def add_closure_page(site_id: int) -> str | Response:
    """Close the site on one day (a manual closure)."""
    site = db.get_or_404(Site, site_id)
    form = ClosureForm()
    if form.validate_on_submit():
        try:
            closure, hits = add_closure(site, form.day.data, form.reason.data, current_user)
        except DuplicateClosure as error:
            form.day.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"{site.name} is closed on {format_day(closure.day)} ({closure.reason}).", "success")
            if hits:
                noun = "appointment is" if len(hits) == 1 else "appointments are"
                flash(f"{len(hits)} {noun} booked that day: use Rebook to move them inside their windows.", "warning")
            return _back_to_closures(site.id)
    return _closures_page(site, form)


@bp.post("/closures/<int:closure_id>/remove")
@roles_required("admin")
def remove_closure_page(closure_id: int) -> Response:
    """Remove a manual closure: the site opens that day again."""
    closure = db.get_or_404(Closure, closure_id)
    site_id, day = closure.site_id, closure.day
    try:
        remove_closure(closure, current_user)
    except ClosureNotRemovable as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"Closure on {format_day(day)} removed; the site opens as usual that day.", "success")
    return _back_to_closures(site_id)


@bp.post("/sites/<int:site_id>/closures/holidays")
@roles_required("admin")
def load_holidays_page(site_id: int) -> Response:
    """Add the public holidays of the next 12 months as closures."""
    site = db.get_or_404(Site, site_id)
    try:
        added = load_public_holidays(site, _site_today(site), current_user)
    except NoHolidayCountry as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        region = "-".join(filter(None, (site.holiday_country, site.holiday_subdivision)))
        if added:
            noun = "holiday" if len(added) == 1 else "holidays"
            flash(f"Added {len(added)} public {noun} ({region}) for the next 12 months.", "success")
        else:
            flash(f"All public holidays ({region}) of the next 12 months were already closures.", "info")
    return _back_to_closures(site.id)


@bp.route("/closures/<int:closure_id>/rebook", methods=["GET", "POST"])
@roles_required("admin")
def rebook_closure(closure_id: int) -> str | Response:
    """Show where each appointment hit by a closure would go; move them on confirm."""
    closure = db.get_or_404(Closure, closure_id)
    site = db.get_or_404(Site, closure.site_id)
    plan = plan_closure_rebook(site, closure.day, _site_today(site))
    if request.method == "GET":
        return render_template("admin/rebook.html", site=site, closure=closure, plan=plan)
    try:
        apply_closure_rebook(plan, current_user)
    except BookingProblem as problem:
        db.session.rollback()
        flash(problem.message, "error")
        return redirect(url_for("admin.rebook_closure", closure_id=closure.id))
    db.session.commit()
    flash(f"Rebooked {len(plan.moves)} appointment{'s' if len(plan.moves) != 1 else ''} "
          f"of {format_day(closure.day)}.", "success")
    if plan.unplaced:
        names = "; ".join(f"{row.patient.name}: {reason}" for row, reason in plan.unplaced)
        flash(f"{len(plan.unplaced)} could not be rebooked and are on hold: {names}", "warning")
    return _back_to_closures(site.id)
