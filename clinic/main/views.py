"""The home page: today at a glance and where to go next."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template

from clinic.scheduling.queries import day_summary, default_site

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> str:
    """Show today's date and the day's numbers for the default site."""
    site = default_site()
    tz = site.timezone if site else "UTC"
    today = datetime.now(ZoneInfo(tz)).date()
    summary = day_summary(site, today) if site else None
    return render_template("home.html", site=site, today=today, summary=summary)
