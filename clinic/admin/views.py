"""Admin pages: the site list and site settings (chairs and closures beside)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.admin.forms import DEFAULT_HOURS, SITE_FIELDS, SiteForm, holiday_countries, site_form_data, time_zone_names
from clinic.admin.services import DuplicateSiteName, create_site, site_hours, site_overview, update_site
from clinic.auth.access import roles_required
from clinic.extensions import db
from clinic.scheduling.models import Site

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@roles_required("admin")
def index() -> str:
    """List the sites with their chair counts and links to set them up."""
    return render_template("admin/index.html", rows=site_overview())


def _render_site_form(form: SiteForm, site: Site | None) -> str:
    country = form.holiday_country.data or ""
    return render_template(
        "admin/site_form.html",
        form=form,
        site=site,
        time_zones=time_zone_names(),
        countries=sorted(holiday_countries()),
        subdivisions=holiday_countries().get(country.upper(), ()),
    )


def _changed_text(form: SiteForm, changed: list[str]) -> str:
    names = [form[name].label.text.lower() if name in form else name.replace("_", " ") for name in changed]
    return ", ".join(names)


@bp.route("/sites/new", methods=["GET", "POST"])
@roles_required("admin")
def create_site_page() -> str | Response:
    """Set up a new site: time zone, slots, capacity, holidays, opening hours."""
    defaults = {"timezone": "Europe/Berlin", "slot_minutes": 15, "turnover_minutes": 15, "max_starts_per_slot": 2}
    form = SiteForm(data=site_form_data(defaults, DEFAULT_HOURS))
    if form.validate_on_submit():
        try:
            site = create_site(form.settings(), form.hours(), current_user)
        except DuplicateSiteName as error:
            form.name.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"Site {site.name} created. Add its chairs next.", "success")
            return redirect(url_for("admin.chairs", site_id=site.id))
    return _render_site_form(form, None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_site(site_id: int) -> str | Response:
    """Change a site's settings and opening hours."""
    site = db.get_or_404(Site, site_id)
    settings = {name: getattr(site, name) for name in SITE_FIELDS}
    form = SiteForm(data=site_form_data(settings, site_hours(site)))
    if form.validate_on_submit():
        try:
            changed = update_site(site, form.settings(), form.hours(), current_user)
        except DuplicateSiteName as error:
            form.name.errors = [str(error)]
        else:
            db.session.commit()
            if changed:
                flash(f"Saved {site.name}: {_changed_text(form, changed)} updated.", "success")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("admin.edit_site", site_id=site.id))
    return _render_site_form(form, site)


from clinic.admin import chair_views, closure_views  # noqa: E402,F401  (registers the routes)
