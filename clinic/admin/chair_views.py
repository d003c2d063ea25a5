"""Admin pages for a site's chairs: list, add, edit, (de)activate, reorder."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.admin.forms import ChairForm
from clinic.admin.services import (
    ChairInUse,
    DuplicateChairLabel,
    add_chair,
    deactivate_chair,
    move_chair,
    reactivate_chair,
    site_chairs,
    update_chair,
)
from clinic.admin.views import bp
from clinic.auth.access import roles_required
from clinic.extensions import db
from clinic.scheduling.models import Chair, Site

MOVES = {"up": -1, "down": 1}


def _chairs_page(site: Site, form: ChairForm) -> str:
    return render_template("admin/chairs.html", site=site, chairs=site_chairs(site), form=form)


def _back_to_chairs(chair: Chair) -> Response:
    return redirect(url_for("admin.chairs", site_id=chair.site_id) + f"#chair-{chair.id}")


@bp.get("/sites/<int:site_id>/chairs")
@roles_required("admin")
def chairs(site_id: int) -> str:
    """List the site's chairs with actions, and a form to add one."""
    site = db.get_or_404(Site, site_id)
    return _chairs_page(site, ChairForm(data={"kind": "chair"}))


@bp.post("/sites/<int:site_id>/chairs")
@roles_required("admin")
def add_chair_page(site_id: int) -> str | Response:
    """Add a chair or bed at the end of the site's order."""
    site = db.get_or_404(Site, site_id)
    form = ChairForm()
    if form.validate_on_submit():
        try:
            chair = add_chair(site, form.label.data, form.kind.data, current_user)
        except DuplicateChairLabel as error:
            form.label.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"{chair.kind.capitalize()} {chair.label} added to {site.name}.", "success")
            return _back_to_chairs(chair)
    return _chairs_page(site, form)


@bp.route("/chairs/<int:chair_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_chair(chair_id: int) -> str | Response:
    """Rename a chair or change its kind."""
    chair = db.get_or_404(Chair, chair_id)
    form = ChairForm(obj=chair)
    if form.validate_on_submit():
        try:
            changed = update_chair(chair, form.label.data, form.kind.data, current_user)
        except DuplicateChairLabel as error:
            form.label.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"Saved {chair.label}." if changed else "Nothing changed.", "success" if changed else "info")
            return _back_to_chairs(chair)
    return render_template("admin/chair_form.html", form=form, chair=chair, site=chair.site)


@bp.post("/chairs/<int:chair_id>/deactivate")
@roles_required("admin")
def deactivate_chair_page(chair_id: int) -> Response:
    """Take a chair out of service (refused while it has upcoming bookings)."""
    chair = db.get_or_404(Chair, chair_id)
    try:
        deactivate_chair(chair, current_user, datetime.now(UTC))
    except ChairInUse as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{chair.label} deactivated; it no longer appears on the schedule.", "success")
    return _back_to_chairs(chair)


@bp.post("/chairs/<int:chair_id>/reactivate")
@roles_required("admin")
def reactivate_chair_page(chair_id: int) -> Response:
    """Put a chair back into service."""
    chair = db.get_or_404(Chair, chair_id)
    reactivate_chair(chair, current_user)
    db.session.commit()
    flash(f"{chair.label} is active again and can be booked.", "success")
    return _back_to_chairs(chair)


@bp.post("/chairs/<int:chair_id>/move")
@roles_required("admin")
def move_chair_page(chair_id: int) -> Response:
    """Move a chair one place up or down in the schedule's order."""
    chair = db.get_or_404(Chair, chair_id)
    direction = request.form.get("direction", "")
    if direction not in MOVES:
        abort(400, "Choose to move the chair up or down.")
    if move_chair(chair, MOVES[direction], current_user):
        db.session.commit()
        flash(f"{chair.label} moved {direction}.", "success")
    else:
        flash(f"{chair.label} is already at the {'top' if direction == 'up' else 'bottom'}.", "info")
    return _back_to_chairs(chair)
