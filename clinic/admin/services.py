"""Admin use cases: site settings, opening hours, chairs, closures (flush only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from clinic.auth.models import User
from clinic.demo import add_holiday_closures
from clinic.extensions import db
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, Chair, Closure, OpeningHours, Site
from clinic.scheduling.queries import local_day_bounds
from clinic.templating import format_day

#: statuses that still need the chair (a finished infusion does not)
BLOCKING_EXCLUDED = (*INACTIVE_STATUSES, "completed")
#: how far back the closure list looks
PAST_CLOSURE_DAYS = 30
#: "the next 12 months" of public holidays
HOLIDAY_HORIZON = timedelta(days=365)
#: dates named in a refusal message before "and N more days"
MAX_LISTED_DAYS = 10


class AdminError(ValueError):
    """A change the admin asked for that the clinic's rules refuse."""


class DuplicateSiteName(AdminError):
    """Another site already has this name."""


class DuplicateChairLabel(AdminError):
    """Another chair at the site already has this label."""


class DuplicateClosure(AdminError):
    """The site is already closed on that day."""


class ClosureNotRemovable(AdminError):
    """Only manual closures can be removed here."""


class NoHolidayCountry(AdminError):
    """The site has no holiday country configured."""


class ChairInUse(AdminError):
    """The chair still has upcoming appointments that must be moved first."""

    def __init__(self, chair: Chair, appointments: list[Appointment], tz: str) -> None:
        self.appointments = appointments
        days = sorted({a.start_at.astimezone(ZoneInfo(tz)).date() for a in appointments})
        self.days = days
        count = len(appointments)
        noun = "appointment" if count == 1 else "appointments"
        shown = ", ".join(format_day(day) for day in days[:MAX_LISTED_DAYS])
        if len(days) > MAX_LISTED_DAYS:
            shown += f" and {len(days) - MAX_LISTED_DAYS} more days"
        super().__init__(
            f"{chair.label} cannot be deactivated: it has {count} upcoming {noun} (on {shown}). "
            "Move them to another chair first, then deactivate it."
        )


# --- sites ------------------------------------------------------------------


@dataclass(frozen=True)
class SiteRow:
    site: Site
    active_chairs: int
    chairs: int


def site_overview() -> list[SiteRow]:
    """Return every site with its chair counts (one query)."""
    active = sa.func.coalesce(sa.func.sum(sa.case((Chair.active.is_(True), 1), else_=0)), 0)
    query = (
        sa.select(Site, active, sa.func.count(Chair.id))
        .outerjoin(Chair, Chair.site_id == Site.id)
        .group_by(Site.id)
        .order_by(Site.name)
    )
    return [SiteRow(site, int(active_count), int(total)) for site, active_count, total in db.session.execute(query)]


def site_hours(site: Site) -> dict[int, tuple[time, time]]:
    """Return {weekday: (opens, closes)} of the site's open days."""
    return {row.weekday: (row.opens_at, row.closes_at) for row in site.hours}


def _check_site_name(name: str, site_id: int | None) -> None:
    # SQLite's lower() folds ASCII only: compare both ways
    query = sa.select(Site.id).where(sa.or_(Site.name == name, sa.func.lower(Site.name) == name.lower()))
    if site_id is not None:
        query = query.where(Site.id != site_id)
    if db.session.scalar(query) is not None:
        raise DuplicateSiteName(f"Another site is already called {name}.")


def _apply_hours(site: Site, hours: dict[int, tuple[time, time]]) -> bool:
    """Make the site's opening hours equal ``hours``; return True if any changed."""
    # Update rows in place: deleting and re-inserting a weekday in one flush
    # would trip the (site, weekday) unique constraint (inserts go first).
    changed = False
    existing = {row.weekday: row for row in site.hours}
    for weekday, row in existing.items():
        if weekday not in hours:
            site.hours.remove(row)
            db.session.delete(row)
            changed = True
        elif (row.opens_at, row.closes_at) != hours[weekday]:
            row.opens_at, row.closes_at = hours[weekday]
            changed = True
    for weekday in sorted(set(hours) - set(existing)):
        opens, closes = hours[weekday]
        site.hours.append(OpeningHours(weekday=weekday, opens_at=opens, closes_at=closes))
        changed = True
    return changed


def create_site(settings: dict[str, Any], hours: dict[int, tuple[time, time]], by: User) -> Site:
    """Add a site with its opening hours; raise DuplicateSiteName."""
    _check_site_name(settings["name"], None)
    site = Site(**settings)
    db.session.add(site)
    _apply_hours(site, hours)
    db.session.flush()
    return site


def update_site(site: Site, settings: dict[str, Any], hours: dict[int, tuple[time, time]], by: User) -> list[str]:
    """Apply changed settings and hours; return the names of what changed."""
    if settings["name"] != site.name:
        _check_site_name(settings["name"], site.id)
    changed = [name for name, value in settings.items() if getattr(site, name) != value]
    for name in changed:
        setattr(site, name, settings[name])
    if _apply_hours(site, hours):
        changed.append("opening_hours")
    db.session.flush()
    return changed


# --- chairs -----------------------------------------------------------------


def site_chairs(site: Site) -> list[Chair]:
    """Return all the site's chairs, active or not, in display order."""
    query = sa.select(Chair).where(Chair.site_id == site.id).order_by(Chair.position, Chair.label, Chair.id)
    return list(db.session.scalars(query))


def _check_label(site_id: int, label: str, chair_id: int | None) -> None:
    query = sa.select(Chair.id).where(
        Chair.site_id == site_id, sa.or_(Chair.label == label, sa.func.lower(Chair.label) == label.lower())
    )
    if chair_id is not None:
        query = query.where(Chair.id != chair_id)
    if db.session.scalar(query) is not None:
        raise DuplicateChairLabel(f"This site already has a chair labelled {label}.")


def add_chair(site: Site, label: str, kind: str, by: User) -> Chair:
    """Add a chair at the end of the site's order; raise DuplicateChairLabel."""
    _check_label(site.id, label, None)
    last = db.session.scalar(sa.select(sa.func.max(Chair.position)).where(Chair.site_id == site.id))
    chair = Chair(site_id=site.id, label=label, kind=kind, position=(last + 1) if last is not None else 0)
    db.session.add(chair)
    db.session.flush()
    return chair


def update_chair(chair: Chair, label: str, kind: str, by: User) -> list[str]:
    """Rename the chair or change its kind; return what changed."""
    changed = []
    if label != chair.label:
        _check_label(chair.site_id, label, chair.id)
        chair.label = label
        changed.append("label")
    if kind != chair.kind:
        chair.kind = kind
        changed.append("kind")
    db.session.flush()
    return changed


def upcoming_chair_appointments(chair: Chair, now: datetime) -> list[Appointment]:
    """Return the chair's appointments not yet over that still need it."""
    query = (
        sa.select(Appointment)
        .where(
            Appointment.chair_id == chair.id,
            Appointment.end_at > now,
            Appointment.status.not_in(BLOCKING_EXCLUDED),
        )
        .order_by(Appointment.start_at)
    )
    return list(db.session.scalars(query))


def deactivate_chair(chair: Chair, by: User, now: datetime) -> None:
    """Take the chair out of service; raise ChairInUse while it has bookings."""
    appointments = upcoming_chair_appointments(chair, now)
    if appointments:
        raise ChairInUse(chair, appointments, chair.site.timezone)
    chair.active = False
    db.session.flush()


def reactivate_chair(chair: Chair, by: User) -> None:
    """Put the chair back into service."""
    chair.active = True
    db.session.flush()


def move_chair(chair: Chair, step: int, by: User) -> bool:
    """Move the chair ``step`` places (-1 up, +1 down); return False at an end."""
    chairs = site_chairs(chair.site)
    index = chairs.index(chair)
    target = index + step
    if not 0 <= target < len(chairs):
        return False
    chairs[index], chairs[target] = chairs[target], chairs[index]
    for position, row in enumerate(chairs):
        row.position = position
    db.session.flush()
    return True


# --- closures ---------------------------------------------------------------


def appointments_on_closures(site: Site, days: Iterable[date]) -> dict[date, list[Appointment]]:
    """Return the site's active appointments on each local day, by start (one query)."""
    wanted = sorted(set(days))
    found: dict[date, list[Appointment]] = {day: [] for day in wanted}
    if not wanted:
        return found
    ranges = [local_day_bounds(day, site.timezone) for day in wanted]
    query = (
        sa.select(Appointment)
        .where(
            Appointment.site_id == site.id,
            Appointment.status.not_in(INACTIVE_STATUSES),
            sa.or_(*(sa.and_(Appointment.start_at >= start, Appointment.start_at < end) for start, end in ranges)),
        )
        .options(joinedload(Appointment.patient), joinedload(Appointment.chair))
        .order_by(Appointment.start_at, Appointment.chair_id)
    )
    zone = ZoneInfo(site.timezone)
    for appointment in db.session.scalars(query):
        found[appointment.start_at.astimezone(zone).date()].append(appointment)
    return found


@dataclass(frozen=True)
class ClosureOverview:
    upcoming: list[Closure]
    past: list[Closure]
    hits: dict[date, list[Appointment]]


def closure_overview(site: Site, today: date) -> ClosureOverview:
    """Return upcoming and recent closures and the appointments each day hits."""
    first = today - timedelta(days=PAST_CLOSURE_DAYS)
    closures = list(
        db.session.scalars(
            sa.select(Closure).where(Closure.site_id == site.id, Closure.day >= first).order_by(Closure.day)
        )
    )
    return ClosureOverview(
        upcoming=[c for c in closures if c.day >= today],
        past=[c for c in closures if c.day < today][::-1],
        hits=appointments_on_closures(site, [c.day for c in closures]),
    )


def add_closure(site: Site, day: date, reason: str, by: User) -> tuple[Closure, list[Appointment]]:
    """Close the site on a day; return it with the appointments it hits."""
    existing = db.session.scalar(sa.select(Closure).where(Closure.site_id == site.id, Closure.day == day))
    if existing is not None:
        raise DuplicateClosure(f"{site.name} is already closed on {format_day(day)} ({existing.reason}).")
    closure = Closure(site_id=site.id, day=day, reason=reason, source="manual")
    db.session.add(closure)
    db.session.flush()
    return closure, appointments_on_closures(site, [day])[day]


def remove_closure(closure: Closure, by: User) -> None:
    """Reopen the day of a manual closure; raise ClosureNotRemovable for holidays."""
    if closure.source != "manual":
        raise ClosureNotRemovable(
            f"{format_day(closure.day)} is a public holiday ({closure.reason}); only manual closures can be removed."
        )
    db.session.delete(closure)
    db.session.flush()


def load_public_holidays(site: Site, today: date, by: User) -> list[Closure]:
    """Add the public holidays of the next 12 months as closures (once each)."""
    if not site.holiday_country:
        raise NoHolidayCountry("Set the site's holiday country in its settings first.")
    added = add_holiday_closures(site, today, today + HOLIDAY_HORIZON)
    db.session.flush()
    return added
