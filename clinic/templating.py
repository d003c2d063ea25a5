"""Template filters: dates and times as staff read them, in the site's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask


def local(instant: datetime, tz: str) -> datetime:
    """Return ``instant`` in the IANA zone ``tz``."""
    return instant.astimezone(ZoneInfo(tz))


def format_day(day: date | datetime | None) -> str:
    """Format like 'Tue 12 Jan 2027'."""
    if day is None:
        return ""
    return f"{day:%a} {day.day} {day:%b %Y}"


def format_local(instant: datetime | None, tz: str) -> str:
    """Format an instant like 'Tue 12 Jan 2027, 09:30' in the site's zone."""
    if instant is None:
        return ""
    moment = local(instant, tz)
    return f"{format_day(moment)}, {moment:%H:%M}"


def format_time(instant: datetime | None, tz: str) -> str:
    """Format an instant's local wall time like '09:30'."""
    if instant is None:
        return ""
    return f"{local(instant, tz):%H:%M}"


def format_amount(amount: float | None) -> str:
    """Format a dose amount without a needless '.0'."""
    if amount is None:
        return ""
    return f"{amount:g}"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["localdt"] = format_local
    app.jinja_env.filters["localtime"] = format_time
    app.jinja_env.filters["amount"] = format_amount
    register_nav(app)


#: top-bar links in order; shown when the endpoint exists and the role may use it
NAV_LINKS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("scheduling.day", "Schedule", None),
    ("patients.index", "Patients", None),
    ("booking.start", "Book infusions", ("admin", "scheduler")),
    ("monitoring.flags", "Flags", None),
    ("protocols.index", "Protocols", None),
    ("admin.index", "Admin", ("admin",)),
)


def register_nav(app: Flask) -> None:
    from flask_login import current_user

    @app.context_processor
    def _nav() -> dict[str, object]:
        links = []
        if current_user.is_authenticated:
            for endpoint, label, roles in NAV_LINKS:
                if endpoint in app.view_functions and (roles is None or current_user.role in roles):
                    links.append((endpoint, label))
        return {"nav_links": links}
