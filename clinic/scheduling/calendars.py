"""Load a site's calendar and what is already booked, for the pure placement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa

from clinic.domain.calendar import Chair as CalendarChair
from clinic.domain.calendar import SiteCalendar
from clinic.domain.occupancy import Occupancy
from clinic.extensions import db
from clinic.scheduling.conflicts import MAX_CHAIR_TIME
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, Chair, Closure, OpeningHours, Site
from clinic.scheduling.queries import local_day_bounds


def site_calendar(site: Site, first: date, last: date) -> SiteCalendar:
    """Return the site's calendar with the closures between two local dates."""
    hours = db.session.scalars(sa.select(OpeningHours).where(OpeningHours.site_id == site.id))
    closures = db.session.scalars(
        sa.select(Closure.day).where(Closure.site_id == site.id, Closure.day.between(first, last))
    )
    chairs = db.session.scalars(
        sa.select(Chair).where(Chair.site_id == site.id, Chair.active.is_(True)).order_by(Chair.position, Chair.id)
    )
    return SiteCalendar(
        timezone=site.timezone,
        hours={h.weekday: (h.opens_at, h.closes_at) for h in hours},
        closures=frozenset(closures),
        slot_minutes=site.slot_minutes,
        turnover_minutes=site.turnover_minutes,
        max_starts_per_slot=site.max_starts_per_slot,
        chairs=tuple(CalendarChair(id=c.id, label=c.label, kind=c.kind) for c in chairs),
    )


def load_occupancy(
    site: Site, patient_id: int, first: date, last: date, exclude_ids: Iterable[int] = ()
) -> Occupancy:
    """Return the busy chairs and start slots at the site and the patient's own bookings.

    One query each, for the local dates first..last (a day of slack either
    side); ``exclude_ids`` leaves out rows about to be re-placed.
    """
    start, _ = local_day_bounds(first - timedelta(days=1), site.timezone)
    _, end = local_day_bounds(last + timedelta(days=1), site.timezone)
    excluded = list(exclude_ids)
    active = [Appointment.status.not_in(INACTIVE_STATUSES), Appointment.start_at < end,
              Appointment.start_at > start - MAX_CHAIR_TIME, Appointment.end_at > start]
    if excluded:
        active.append(Appointment.id.not_in(excluded))
    site_rows = db.session.execute(
        sa.select(Appointment.chair_id, Appointment.start_at, Appointment.end_at).where(
            Appointment.site_id == site.id, *active
        )
    ).all()
    patient_rows = db.session.execute(
        sa.select(Appointment.start_at, Appointment.end_at).where(Appointment.patient_id == patient_id, *active)
    ).all()
    return Occupancy.from_busy(
        chair_busy=[(chair, s, e) for chair, s, e in site_rows],
        patient_busy=[(patient_id, s, e) for s, e in patient_rows],
        starts=[s for _chair, s, _e in site_rows],
    )
