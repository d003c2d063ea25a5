"""Rebook the appointments a closure hits, each inside its own window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.domain.placement import Preferences, place
from clinic.domain.targets import DoseTarget
from clinic.extensions import db
from clinic.scheduling.calendars import load_occupancy, site_calendar
from clinic.scheduling.changes import Change, place_row
from clinic.scheduling.conflicts import lock_site_bookings, overlap_guard
from clinic.scheduling.models import Appointment, Site
from clinic.scheduling.queries import local_day_bounds

#: a hand-booked appointment (no dose window) may move this many days either way
UNWINDOWED_DAYS = 7


@dataclass
class ClosureRebook:
    site: Site
    day: date
    moves: list[Change] = field(default_factory=list)
    unplaced: list[tuple[Appointment, str]] = field(default_factory=list)


def _target(row: Appointment, day: date, today: date) -> DoseTarget:
    """Rebuild the dose's target from its row; a hand-booked one gets ±7 days."""
    earliest = row.earliest or day - timedelta(days=UNWINDOWED_DAYS)
    latest = row.latest or day + timedelta(days=UNWINDOWED_DAYS)
    needs_bed = bool(row.protocol and row.protocol.definition.get("regimen", {}).get("chair_kind") == "bed")
    return DoseTarget(
        number=row.dose_number or 1, phase=row.phase or "single", target_date=row.target_date or day,
        earliest=max(earliest, today + timedelta(days=1)), latest=latest,
        amount=row.dose_amount or 0.0, unit=row.dose_unit or "", infusion_minutes=row.infusion_minutes,
        observation_minutes=row.observation_minutes, chair_kind="bed" if needs_bed else "any",
    )


def affected(site: Site, day: date) -> list[Appointment]:
    """Return the scheduled appointments at the site on the local day."""
    start, end = local_day_bounds(day, site.timezone)
    return list(db.session.scalars(
        sa.select(Appointment).where(Appointment.site_id == site.id, Appointment.start_at >= start,
                                     Appointment.start_at < end, Appointment.status.in_(("scheduled", "held")))
        .order_by(Appointment.start_at)
    ))


def plan_closure_rebook(site: Site, day: date, today: date) -> ClosureRebook:
    """Work out where each appointment hit by a closure goes; writes nothing."""
    plan = ClosureRebook(site, day)
    rows = affected(site, day)
    if not rows:
        return plan
    targets = {row.id: _target(row, day, today) for row in rows}
    first = min(t.earliest for t in targets.values())
    last = max(t.latest for t in targets.values())
    calendar = site_calendar(site, first, last)
    ids = [row.id for row in rows]
    for row in rows:
        target = targets[row.id]
        if target.earliest > target.latest:
            plan.unplaced.append((row, "no day left in its window after today"))
            continue
        occupancy = load_occupancy(site, row.patient_id, first, last, exclude_ids=ids)
        for change in plan.moves:  # doses already rebooked in this action
            occupancy.add(change.new_chair_id, change.appointment.patient_id, change.new_start,
                          change.new_start + timedelta(minutes=change.appointment.infusion_minutes
                                                       + change.appointment.observation_minutes))
        placement = place([target], calendar, occupancy, row.patient_id, Preferences(chair_id=row.chair_id))
        if placement.placed:
            spot = placement.placed[0]
            plan.moves.append(Change(row, row.start_at, spot.start, row.chair_id, spot.chair_id))
        else:
            plan.unplaced.append((row, placement.unplaced[0].reason))
    return plan


def apply_closure_rebook(plan: ClosureRebook, by: User | None) -> None:
    """Move the rebooked appointments; put the rest on hold with the reason."""
    lock_site_bookings(plan.site.id)
    turnover = timedelta(minutes=plan.site.turnover_minutes)
    with overlap_guard("A slot was booked by someone else meanwhile; try again"):
        for change in plan.moves:
            change.appointment.status = "cancelled"
        db.session.flush()
        for change in plan.moves:
            place_row(change.appointment, change.new_start, change.new_chair_id, turnover)
            change.appointment.status = "scheduled"
            change.appointment.reason = f"rebooked: site closed on {plan.day.isoformat()}"
            db.session.flush()
        for row, reason in plan.unplaced:
            row.status = "held"
            row.reason = f"site closed on {plan.day.isoformat()}; could not rebook: {reason}"
