"""The day schedule: a chair-by-time grid for one local day, and its print view."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from clinic.scheduling.dayargs import ScheduleQueryError, resolve_schedule_query
from clinic.scheduling.dayview import FLAG_SYMBOLS, STATUS_LABELS, day_view
from clinic.scheduling.models import Site
from clinic.scheduling.queries import sites

bp = Blueprint("scheduling", __name__, url_prefix="/schedule")

#: the single-booking page an empty slot links to, once it exists
BOOK_ENDPOINT = "booking.single"
#: what both schedule templates need to write statuses and flags out
LABELS = {"status_labels": STATUS_LABELS, "flag_symbols": FLAG_SYMBOLS}


def _site_and_day(now: datetime) -> tuple[Site, date]:
    """Return the requested site and day; 400 when malformed, 404 when unknown."""
    try:
        return resolve_schedule_query(request.args.get("site_id"), request.args.get("date"), now)
    except ScheduleQueryError as error:
        abort(404 if error.field is None else 400, error.message)


def _book_endpoint() -> str | None:
    """Return the endpoint empty slots link to, if it exists and the user may book."""
    if BOOK_ENDPOINT in current_app.view_functions and current_user.has_role("admin", "scheduler"):
        return BOOK_ENDPOINT
    return None


@bp.get("/")
def day() -> str:
    """Show one site's chairs and appointments for a day (today by default)."""
    now = datetime.now(UTC)
    site, shown = _site_and_day(now)
    view = day_view(site, shown, now)
    return render_template(
        "scheduling/day.html",
        view=view,
        site=site,
        sites=sites(),
        book_endpoint=_book_endpoint(),
        now=now,
        **LABELS,
    )


@bp.get("/print")
def print_day() -> str:
    """Show the day as a black-and-white table by chair, for one landscape page."""
    now = datetime.now(UTC)
    site, shown = _site_and_day(now)
    view = day_view(site, shown, now)
    return render_template("scheduling/print.html", view=view, site=site, now=now, **LABELS)
