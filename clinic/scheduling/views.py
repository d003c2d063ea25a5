"""The day schedule: each chair's appointments for one local day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request

from clinic.extensions import db
from clinic.scheduling.models import Site
from clinic.scheduling.queries import active_chairs, day_appointments, default_site, sites

bp = Blueprint("scheduling", __name__, url_prefix="/schedule")


def _parse_day(raw: str | None, tz: str) -> date:
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            abort(400, "The date must look like 2027-01-12.")
    return datetime.now(ZoneInfo(tz)).date()


@bp.get("/")
def day() -> str:
    """Show one site's chairs and appointments for a day (today by default)."""
    site_id = request.args.get("site_id", type=int)
    site = db.get_or_404(Site, site_id) if site_id else default_site()
    if site is None:
        abort(404, "No site is set up yet.")
    shown = _parse_day(request.args.get("date"), site.timezone)
    chairs = active_chairs(site)
    by_chair: dict[int, list] = {chair.id: [] for chair in chairs}
    for appointment in day_appointments(site, shown):
        by_chair.setdefault(appointment.chair_id, []).append(appointment)
    return render_template(
        "scheduling/day.html",
        site=site,
        sites=sites(),
        day=shown,
        prev_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        chairs=chairs,
        by_chair=by_chair,
    )
