"""Read-side queries for the day schedule (a fixed number per page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from clinic.extensions import db
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, Chair, Closure, OpeningHours, Site


def default_site() -> Site | None:
    """Return the first site (the one a single-site clinic has)."""
    return db.session.scalar(sa.select(Site).order_by(Site.id).limit(1))


def find_site(site_id: int | None) -> Site | None:
    """Return the site with ``site_id``, or the default site when it is None."""
    return default_site() if site_id is None else db.session.get(Site, site_id)


def sites() -> list[Site]:
    """Return every site, by name."""
    return list(db.session.scalars(sa.select(Site).order_by(Site.name)))


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """Return the UTC instants where the local ``day`` starts and ends."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def day_appointments(site: Site, day: date) -> list[Appointment]:
    """Return the site's appointments starting on the local ``day``, by start."""
    start, end = local_day_bounds(day, site.timezone)
    query = (
        sa.select(Appointment)
        .where(Appointment.site_id == site.id, Appointment.start_at >= start, Appointment.start_at < end)
        .options(joinedload(Appointment.patient), joinedload(Appointment.protocol))
        .order_by(Appointment.start_at, Appointment.chair_id)
    )
    return list(db.session.scalars(query))


def active_chairs(site: Site) -> list[Chair]:
    """Return the site's active chairs in display order."""
    query = (
        sa.select(Chair)
        .where(Chair.site_id == site.id, Chair.active.is_(True))
        .order_by(Chair.position, Chair.label)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class DaySummary:
    appointments: int
    active: int
    first_start: datetime | None
    last_start: datetime | None


def day_summary(site: Site, day: date) -> DaySummary:
    """Count a day's appointments (active ones apart)."""
    rows = day_appointments(site, day)
    active = [a for a in rows if a.status not in INACTIVE_STATUSES]
    return DaySummary(
        appointments=len(rows),
        active=len(active),
        first_start=active[0].start_at if active else None,
        last_start=active[-1].start_at if active else None,
    )


@dataclass(frozen=True)
class DayRows:
    """Everything the day schedule shows, loaded in four queries."""

    hours: OpeningHours | None
    closure: Closure | None
    chairs: list[Chair]
    appointments: list[Appointment]


def load_day(site: Site, day: date) -> DayRows:
    """Load a site's hours, closure, chairs and appointments for one local day.

    A fixed number of queries whatever the number of chairs or appointments:
    patients and protocols come joined to the appointments. Inactive chairs
    are kept only when they still hold one of the day's appointments.
    """
    hours = db.session.scalar(
        sa.select(OpeningHours).where(OpeningHours.site_id == site.id, OpeningHours.weekday == day.weekday())
    )
    closure = db.session.scalar(sa.select(Closure).where(Closure.site_id == site.id, Closure.day == day))
    appointments = day_appointments(site, day)
    used = {appointment.chair_id for appointment in appointments}
    all_chairs = db.session.scalars(
        sa.select(Chair).where(Chair.site_id == site.id).order_by(Chair.position, Chair.label)
    )
    chairs = [chair for chair in all_chairs if chair.active or chair.id in used]
    return DayRows(hours=hours, closure=closure, chairs=chairs, appointments=appointments)
