"""Read the schedule's query string: which site and which local day."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from clinic.scheduling.models import Site
from clinic.scheduling.queries import find_site

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ScheduleQueryError(ValueError):
    """A schedule request naming no usable site or date.

    ``field`` names the malformed parameter; None means the request was
    well formed but names nothing that exists (a 404).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _parse_site_id(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    if not (raw.strip().isascii() and raw.strip().isdigit()) or len(raw.strip()) > 9:
        raise ScheduleQueryError("The site must be given by its number, e.g. site_id=1.", "site_id")
    return int(raw.strip())


def _parse_day(raw: str | None) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        if not _ISO_DAY.fullmatch(raw.strip()):
            raise ValueError(raw)
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise ScheduleQueryError("The date must look like 2027-01-12 (year-month-day).", "date") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ScheduleQueryError("The date must lie between the years 1900 and 2999.", "date")
    return day


def resolve_schedule_query(site_raw: str | None, date_raw: str | None, now: datetime) -> tuple[Site, date]:
    """Return the site (the first by default) and the local day (today there by default)."""
    site_id = _parse_site_id(site_raw)
    day = _parse_day(date_raw)
    site = find_site(site_id)
    if site is None:
        raise ScheduleQueryError("No site is set up yet." if site_id is None else f"There is no site {site_id}.")
    return site, day or now.astimezone(ZoneInfo(site.timezone)).date()
