"""Change one appointment: book a single one, move it, re-plan the later doses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.domain.calendar import local_date
from clinic.domain.placement import Preferences, place
from clinic.domain.planning import plan_doses
from clinic.domain.regimens import PlanningError, parse_regimen
from clinic.domain.slots import slot_problem
from clinic.domain.targets import Measures
from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.protocols.services import current_protocol
from clinic.scheduling.calendars import load_occupancy, site_calendar
from clinic.scheduling.conflicts import (
    BookingProblem,
    conflict_error,
    find_conflicts,
    lock_site_bookings,
    overlap_guard,
)
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, Chair, Site

#: statuses a dose may still be moved or re-planned from
MOVABLE = ("scheduled", "held")


@dataclass(frozen=True)
class SingleRequest:
    patient_id: int
    chair_id: int
    start: datetime
    duration_minutes: int
    protocol_code: str | None = None
    notes: str = ""


def _slot_check(site: Site, chair_id: int, start: datetime, minutes: int, patient_id: int,
                exclude_ids: tuple[int, ...] = ()) -> datetime:
    """Check hours, conflicts and start capacity; return when the chair is free again."""
    calendar = site_calendar(site, start.date() - timedelta(days=1), start.date() + timedelta(days=1))
    problem = slot_problem(calendar, chair_id, start, minutes)
    if problem is not None:
        raise BookingProblem(problem[1], {problem[0]: [problem[1]]})
    end = start + timedelta(minutes=minutes)
    chair_free_at = end + calendar.turnover
    conflicts = find_conflicts(chair_id=chair_id, patient_id=patient_id, start=start, end=end,
                               chair_free_at=chair_free_at, exclude_ids=exclude_ids)
    if conflicts:
        raise conflict_error(conflicts, patient_id, site.timezone)
    slot = calendar.slot_floor(start)
    assert slot is not None  # inside opening hours, checked above
    starts = db.session.scalar(
        sa.select(sa.func.count()).select_from(Appointment).where(
            Appointment.site_id == site.id, Appointment.status.not_in(INACTIVE_STATUSES),
            Appointment.start_at >= slot, Appointment.start_at < slot + calendar.slot,
            Appointment.id.not_in(exclude_ids) if exclude_ids else sa.true(),
        )
    ) or 0
    if starts >= site.max_starts_per_slot:
        message = (f"The nurses' start capacity is reached: {starts} of {site.max_starts_per_slot} "
                   f"infusions already start in this {site.slot_minutes}-minute slot.")
        raise BookingProblem(message, {"start": [message]})
    return chair_free_at


def book_single(request: SingleRequest, by: User | None) -> Appointment:
    """Book one appointment in a given chair and time (no series)."""
    chair = db.session.get(Chair, request.chair_id)
    patient = db.session.get(Patient, request.patient_id)
    fields: dict[str, list[str]] = {}
    if chair is None or not chair.active:
        fields["chair_id"] = [f"No active chair with id {request.chair_id}."]
    if patient is None:
        fields["patient_id"] = [f"No patient with id {request.patient_id}."]
    protocol = current_protocol(request.protocol_code) if request.protocol_code else None
    if request.protocol_code and protocol is None:
        fields["protocol_code"] = [f"No protocol with code {request.protocol_code!r}."]
    if not 5 <= request.duration_minutes <= 12 * 60:
        fields["duration_minutes"] = ["Use 5 to 720 minutes."]
    if fields:
        raise BookingProblem("Some fields are not valid.", fields)
    assert chair is not None and patient is not None
    site = chair.site
    lock_site_bookings(site.id)
    chair_free_at = _slot_check(site, chair.id, request.start, request.duration_minutes, patient.id)
    appointment = Appointment(
        patient_id=patient.id, site_id=site.id, chair_id=chair.id, protocol_id=protocol.id if protocol else None,
        start_at=request.start, end_at=request.start + timedelta(minutes=request.duration_minutes),
        chair_free_at=chair_free_at, infusion_minutes=request.duration_minutes, observation_minutes=0,
        notes=request.notes, created_by_id=by.id if by else None,
    )
    with overlap_guard("Someone booked this slot a moment ago"):
        db.session.add(appointment)
    return appointment


@dataclass
class Change:
    """One appointment's old and new place, shown to staff before saving."""

    appointment: Appointment
    old_start: datetime
    new_start: datetime
    old_chair_id: int
    new_chair_id: int
    new_target: date | None = None
    new_earliest: date | None = None
    new_latest: date | None = None
    unplaced_reason: str | None = None

    @property
    def day_changed(self) -> bool:
        return self.old_start.date() != self.new_start.date()


@dataclass
class MovePlan:
    """A move (or a dose given on another day) and the later doses it re-plans."""

    appointment: Appointment
    new_start: datetime
    new_chair_id: int
    given: bool = False
    replanned: list[Change] = field(default_factory=list)


def plan_move(appointment: Appointment, new_start: datetime, new_chair_id: int, given: bool = False) -> MovePlan:
    """Work out a move and its re-planned later doses; writes nothing."""
    if appointment.status not in MOVABLE and not (given and appointment.status in ("scheduled", "checked_in", "in_chair", "held")):
        raise BookingProblem(f"A {appointment.status.replace('_', ' ')} appointment cannot be moved.",
                             {"status": [f"Appointment is {appointment.status}."]})
    site = db.session.get(Site, appointment.site_id)
    assert site is not None
    tz = site.timezone
    new_day = local_date(new_start, tz)
    if appointment.earliest and new_day < appointment.earliest:
        message = f"Dose {appointment.dose_number} may not be given before {appointment.earliest:%a %d %b %Y} (minimum gap)."
        raise BookingProblem(message, {"start": [message]})
    if not given:
        _slot_check(site, new_chair_id, new_start, appointment.infusion_minutes + appointment.observation_minutes,
                    appointment.patient_id, exclude_ids=(appointment.id,))
    plan = MovePlan(appointment, new_start, new_chair_id, given)
    if appointment.series is not None and appointment.dose_number and new_day != local_date(appointment.start_at, tz):
        plan.replanned = _replan_later(appointment, new_day, new_start, site)
    return plan


def _replan_later(moved: Appointment, new_day: date, new_start: datetime, site: Site) -> list[Change]:
    """Re-plan the series' later doses from the actual dates (§10)."""
    series = moved.series
    assert series is not None and moved.dose_number is not None
    tz = site.timezone
    rows = sorted((a for a in series.appointments if a.dose_number), key=lambda a: a.dose_number or 0)
    history = []
    for row in rows:
        if row.dose_number == moved.dose_number:
            history.append(new_day)
            break
        if row.dose_number and row.dose_number < moved.dose_number and row.status not in INACTIVE_STATUSES:
            given_at = row.actual_start_at or row.start_at
            history.append(local_date(given_at, tz))
    later = [a for a in rows if (a.dose_number or 0) > moved.dose_number and a.status in MOVABLE]
    if not later:
        return []
    regimen = parse_regimen(series.protocol.definition, series.protocol.code)
    patient = series.patient
    try:
        targets = plan_doses(regimen, series.day0, Measures(patient.weight_kg, patient.height_cm),
                             history=history, max_doses=max(a.dose_number or 0 for a in later) - len(history))
    except PlanningError as error:
        raise BookingProblem(str(error), {"start": [str(error)]}) from None
    wanted = {a.dose_number for a in later}
    targets = [t for t in targets if t.number in wanted]
    first = min(t.earliest for t in targets)
    last = max(t.latest for t in targets) + timedelta(days=10)
    calendar = site_calendar(site, first, last)
    occupancy = load_occupancy(site, patient.id, first, last, exclude_ids=[moved.id, *(a.id for a in later)])
    minutes = moved.infusion_minutes + moved.observation_minutes
    occupancy.add(moved.chair_id, patient.id, new_start, new_start + timedelta(minutes=minutes))
    preferences = Preferences(series.preferred_weekday, series.preferred_time, series.preferred_chair_id)
    placement = place(targets, calendar, occupancy, patient.id, preferences)
    by_number = {a.dose_number: a for a in later}
    changes = [
        Change(by_number[p.target.number], by_number[p.target.number].start_at, p.start,
               by_number[p.target.number].chair_id, p.chair_id, p.target.target_date, p.target.earliest, p.target.latest)
        for p in placement.placed
    ]
    changes += [
        Change(by_number[u.target.number], by_number[u.target.number].start_at, by_number[u.target.number].start_at,
               by_number[u.target.number].chair_id, by_number[u.target.number].chair_id,
               u.target.target_date, u.target.earliest, u.target.latest, unplaced_reason=u.reason)
        for u in placement.unplaced
    ]
    return sorted(changes, key=lambda c: c.appointment.dose_number or 0)


def apply_move(plan: MovePlan, by: User | None, now: datetime) -> list[Change]:
    """Save a move and its re-planned doses; 409 if a slot was taken meanwhile."""
    moved = plan.appointment
    lock_site_bookings(moved.site_id)
    site = db.session.get(Site, moved.site_id)
    assert site is not None
    turnover = timedelta(minutes=site.turnover_minutes)
    touched = [moved, *(c.appointment for c in plan.replanned if c.unplaced_reason is None)]
    restore = {a.id: a.status for a in touched}
    with overlap_guard("A slot was booked by someone else meanwhile; try again"):
        # Step the rows out of the way first, so the new places never collide
        # with the old places of the rows being moved.
        for row in touched:
            row.status = "cancelled"
        db.session.flush()
        place_row(moved, plan.new_start, plan.new_chair_id, turnover)
        moved.status = "completed" if plan.given else restore[moved.id]
        if plan.given:
            moved.actual_start_at = plan.new_start
        for change in plan.replanned:
            row = change.appointment
            if change.unplaced_reason is not None:
                row.status = "held"
                row.reason = f"could not be re-planned: {change.unplaced_reason}"
                continue
            place_row(row, change.new_start, change.new_chair_id, turnover)
            row.target_date, row.earliest, row.latest = change.new_target, change.new_earliest, change.new_latest
            row.status = restore[row.id] if restore[row.id] != "held" else "scheduled"
            db.session.flush()
    return plan.replanned


def place_row(row: Appointment, start: datetime, chair_id: int, turnover: timedelta) -> None:
    minutes = timedelta(minutes=row.infusion_minutes + row.observation_minutes)
    if chair_id != row.chair_id or start != row.start_at:
        row.start_at, row.chair_id = start, chair_id
        row.end_at = start + minutes
        row.chair_free_at = row.end_at + turnover


TRANSITIONS = {
    "scheduled": {"checked_in", "cancelled", "no_show", "held"},
    "held": {"scheduled", "cancelled", "no_show"},
    "checked_in": {"in_chair", "cancelled", "no_show", "held", "scheduled"},
    "in_chair": {"completed", "held"},
    "completed": set(),
    "cancelled": {"scheduled"},
    "no_show": {"scheduled"},
}


def change_status(appointment: Appointment, status: str, reason: str, by: User | None, now: datetime) -> None:
    """Move an appointment along its states (check-in, start, complete, cancel, no-show…)."""
    allowed = TRANSITIONS.get(appointment.status, set())
    if status not in allowed:
        message = f"A {appointment.status.replace('_', ' ')} appointment cannot become {status.replace('_', ' ')}."
        raise BookingProblem(message, {"status": [message]}, code="invalid_transition")
    if status in ("cancelled", "held") and not reason.strip():
        raise BookingProblem("Give a reason.", {"reason": ["A reason is required to cancel or hold."]})
    if status == "scheduled" and appointment.status in INACTIVE_STATUSES:
        lock_site_bookings(appointment.site_id)
        conflicts = find_conflicts(chair_id=appointment.chair_id, patient_id=appointment.patient_id,
                                   start=appointment.start_at, end=appointment.end_at,
                                   chair_free_at=appointment.chair_free_at, exclude_ids=(appointment.id,))
        if conflicts:
            site = db.session.get(Site, appointment.site_id)
            raise conflict_error(conflicts, appointment.patient_id, site.timezone if site else "UTC")
    if status == "in_chair":
        _require_acknowledged(appointment, now)
    with overlap_guard("The slot was booked by someone else meanwhile"):
        appointment.status = status
        if reason.strip():
            appointment.reason = reason.strip()
        if status == "checked_in":
            appointment.checked_in_at = now
        elif status == "in_chair":
            appointment.actual_start_at = now
        elif status == "completed":
            appointment.actual_end_at = now


def _require_acknowledged(appointment: Appointment, now: datetime) -> None:
    """Refuse to start while a critical flag is unacknowledged."""
    from clinic.monitoring.services import unacknowledged_critical

    site = db.session.get(Site, appointment.site_id)
    today = local_date(now, site.timezone if site else "UTC")
    pending = unacknowledged_critical(appointment, today)
    if pending:
        message = "Acknowledge the critical flags before starting: " + "; ".join(f.message for f in pending)
        raise BookingProblem(message, {"status": [message]}, code="unacknowledged_flags")
