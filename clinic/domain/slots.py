"""Check one chair slot against a site's calendar (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from clinic.domain.calendar import SiteCalendar, format_day, utc_to_local
from clinic.domain.targets import DoseTarget


def slot_problem(
    calendar: SiteCalendar,
    chair_id: int,
    start: datetime,
    minutes: int,
    target: DoseTarget | None = None,
) -> tuple[str, str] | None:
    """Return (field, reason) if the slot cannot be booked, else None.

    The chair time [start, start + minutes) must lie inside the local day's
    opening hours on an open day, in an active chair of the site (a bed if
    the dose needs one), and inside the dose's window when a target is given.
    """
    if start.tzinfo is None:
        return "start", "The start needs a time zone offset."
    if minutes <= 0:
        return "duration_minutes", "The duration must be at least one minute."
    chairs = {chair.id: chair for chair in calendar.chairs}
    if chair_id not in chairs:
        return "chair_id", "This chair is not an active chair of the site."
    day = calendar.local_date(start)
    interval = calendar.open_interval(day)
    if interval is None:
        return "start", f"The site is closed on {format_day(day)}."
    opens, closes = interval
    end = start + timedelta(minutes=minutes)
    if start < opens or end > closes:
        local_open = utc_to_local(opens, calendar.zone)
        local_close = utc_to_local(closes, calendar.zone)
        return "start", (
            f"Outside opening hours on {format_day(day)} "
            f"({local_open:%H:%M}–{local_close:%H:%M}): the chair time must fit inside them."
        )
    if target is not None:
        if not target.earliest <= day <= target.latest:
            return "start", (
                f"Dose {target.number} must be given between {format_day(target.earliest)} "
                f"and {format_day(target.latest)}."
            )
        if target.chair_kind == "bed" and chairs[chair_id].kind != "bed":
            return "chair_id", f"Dose {target.number} needs a bed."
    return None
