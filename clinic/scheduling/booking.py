"""Book a whole series: plan the doses, place them into chairs, save all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.domain.calendar import SiteCalendar
from clinic.domain.monitoring import Flag
from clinic.domain.occupancy import Occupancy
from clinic.domain.placement import Placement, PlacedDose, Preferences, UnplacedDose, place
from clinic.domain.planning import plan_doses
from clinic.domain.regimens import PlanningError, parse_regimen
from clinic.domain.slots import slot_problem
from clinic.domain.targets import DoseTarget, Measures
from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.protocols.models import Protocol
from clinic.protocols.services import current_protocol
from clinic.scheduling.calendars import load_occupancy, site_calendar
from clinic.scheduling.conflicts import (
    BookingConflict,
    BookingProblem,
    conflict_error,
    find_conflicts,
    lock_site_bookings,
    overlap_guard,
)
from clinic.scheduling.models import Appointment, Chair, Site, TreatmentSeries

DEFAULT_HORIZON_DAYS = 365
MAX_HORIZON_DAYS = 3 * 365


@dataclass(frozen=True)
class Pin:
    """A placement the user saw in a preview and confirms as it was."""

    number: int
    chair_id: int
    start: datetime


@dataclass(frozen=True)
class SeriesRequest:
    """What a scheduler asks for (the wizard's and the API's fields, parsed)."""

    patient_id: int
    protocol_code: str
    start_date: date
    site_id: int
    preferred_time: time | None = None
    preferred_chair_id: int | None = None
    preferred_weekday: int | None = None
    horizon_days: int | None = None
    doses: int | None = None
    pins: tuple[Pin, ...] = ()


@dataclass
class SeriesPlan:
    """A previewed series: the rows it would write, and what could not be placed."""

    patient: Patient
    protocol: Protocol
    site: Site
    request: SeriesRequest
    targets: list[DoseTarget]
    placement: Placement
    occupancy: Occupancy | None = None
    appointments: list[Appointment] = field(default_factory=list)


def _load(request: SeriesRequest) -> tuple[Patient, Protocol, Site]:
    patient = db.session.get(Patient, request.patient_id)
    site = db.session.get(Site, request.site_id)
    protocol = current_protocol(request.protocol_code)
    fields: dict[str, list[str]] = {}
    if patient is None:
        fields["patient_id"] = [f"No patient with id {request.patient_id}."]
    if site is None:
        fields["site_id"] = [f"No site with id {request.site_id}."]
    if protocol is None:
        fields["protocol_code"] = [f"No protocol with code {request.protocol_code!r}."]
    if fields:
        raise BookingProblem("Some fields are not valid.", fields)
    assert patient and site and protocol
    if request.preferred_chair_id is not None:
        chair = db.session.get(Chair, request.preferred_chair_id)
        if chair is None or chair.site_id != site.id or not chair.active:
            raise BookingProblem("Some fields are not valid.", {"preferred_chair_id": ["Not an active chair of this site."]})
    return patient, protocol, site


def plan_targets(protocol: Protocol, patient: Patient, request: SeriesRequest) -> list[DoseTarget]:
    """Plan the nominal doses for this patient; 422 naming a missing measure."""
    horizon_days = request.horizon_days or DEFAULT_HORIZON_DAYS
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise BookingProblem("Some fields are not valid.", {"horizon_days": [f"Use 1 to {MAX_HORIZON_DAYS} days."]})
    try:
        regimen = parse_regimen(protocol.definition, protocol.code)
        return plan_doses(
            regimen,
            request.start_date,
            Measures(patient.weight_kg, patient.height_cm),
            horizon=request.start_date + timedelta(days=horizon_days),
            max_doses=request.doses,
        )
    except PlanningError as error:
        field_name = "weight_kg" if "weight" in str(error) else "height_cm" if "height" in str(error) else "protocol_code"
        raise BookingProblem(str(error), {field_name: [str(error)]}) from None


def preview_series(request: SeriesRequest) -> SeriesPlan:
    """Plan and place a series without writing anything."""
    patient, protocol, site = _load(request)
    targets = plan_targets(protocol, patient, request)
    if not targets:
        raise BookingProblem("The protocol has no dose inside the horizon.", {"horizon_days": ["No dose falls inside it."]})
    first = min(t.earliest for t in targets)
    last = max(t.latest for t in targets) + timedelta(days=10)
    calendar = site_calendar(site, first, last)
    occupancy = load_occupancy(site, patient.id, first, last)
    preferences = Preferences(
        weekday=request.preferred_weekday,
        start_time=request.preferred_time,
        chair_id=request.preferred_chair_id,
    )
    placement = place(targets, calendar, occupancy, patient.id, preferences)
    if request.pins:
        placement = _pinned(placement, request.pins, calendar)
    return SeriesPlan(patient, protocol, site, request, targets, placement, occupancy)


def _pinned(placement: Placement, pins: tuple[Pin, ...], calendar: SiteCalendar) -> Placement:
    """Replace the fresh placement by the confirmed one, checked slot by slot."""
    fresh = {p.target.number: p for p in placement.placed}
    reasons = {u.target.number: u.reason for u in placement.unplaced}
    targets = {t.number: t for t in [*(p.target for p in placement.placed), *(u.target for u in placement.unplaced)]}
    placed: list[PlacedDose] = []
    for pin in pins:
        target = targets.get(pin.number)
        if target is None:
            message = f"Dose {pin.number} is not in the plan any more; preview again."
            raise BookingProblem(message, {"appointments": [message]})
        problem = slot_problem(calendar, pin.chair_id, pin.start, target.chair_minutes, target)
        if problem is not None:
            raise BookingProblem(problem[1], {"appointments": [f"Dose {pin.number}: {problem[1]}"]})
        end = pin.start + timedelta(minutes=target.chair_minutes)
        moved = fresh[pin.number].moved_reason if pin.number in fresh else None
        day = calendar.local_date(pin.start)
        placed.append(PlacedDose(target, day, pin.chair_id, pin.start, end, end + calendar.turnover, moved))
    pinned = {pin.number for pin in pins}
    unplaced = [
        UnplacedDose(target, reasons.get(number, "not in the confirmed preview"))
        for number, target in sorted(targets.items())
        if number not in pinned
    ]
    return Placement(placed=sorted(placed, key=lambda p: p.target.number), unplaced=unplaced)


def _appointment_row(plan: SeriesPlan, dose: PlacedDose, by: User | None) -> Appointment:
    target = dose.target
    return Appointment(
        patient_id=plan.patient.id, site_id=plan.site.id, chair_id=dose.chair_id, protocol_id=plan.protocol.id,
        dose_number=target.number, phase=target.phase, course=target.course, course_day=target.course_day,
        target_date=target.target_date, earliest=target.earliest, latest=target.latest,
        start_at=dose.start, end_at=dose.end, chair_free_at=dose.blocked_until,
        dose_amount=target.amount, dose_unit=target.unit,
        infusion_minutes=target.infusion_minutes, observation_minutes=target.observation_minutes,
        created_by_id=by.id if by else None, reason=dose.moved_reason or "",
    )


def book_series(request: SeriesRequest, by: User | None) -> tuple[TreatmentSeries, SeriesPlan]:
    """Place and save a series, all or nothing; 409 if a slot was taken meanwhile."""
    lock_site_bookings(request.site_id)
    plan = preview_series(request)
    if not plan.placement.placed:
        raise BookingProblem("No dose could be placed; nothing was booked.",
                             {"start_date": [u.reason for u in plan.placement.unplaced][:3]})
    if request.pins:
        _check_pins_still_free(plan)
    series = TreatmentSeries(
        patient_id=plan.patient.id, protocol_id=plan.protocol.id, site_id=plan.site.id,
        day0=request.start_date, preferred_weekday=request.preferred_weekday,
        preferred_time=request.preferred_time, preferred_chair_id=request.preferred_chair_id,
        weight_kg=plan.patient.weight_kg, height_cm=plan.patient.height_cm,
        created_by_id=by.id if by else None,
    )
    with overlap_guard("A slot of this series was booked by someone else meanwhile; preview again"):
        db.session.add(series)
        db.session.flush()
        plan.appointments = [_appointment_row(plan, dose, by) for dose in plan.placement.placed]
        for row in plan.appointments:
            row.series_id = series.id
        db.session.add_all(plan.appointments)
    return series, plan


def _check_pins_still_free(plan: SeriesPlan) -> None:
    """Refuse a confirmed preview whose slots were taken meanwhile (409 naming one).

    The occupancy was loaded under the site's booking lock, so it is current:
    only a dose it shows as busy needs the database to name the conflict.
    Fresh placements need no check; they were placed around that occupancy.
    """
    assert plan.occupancy is not None
    turnover = timedelta(minutes=plan.site.turnover_minutes)
    for dose in plan.placement.placed:
        chair_ok = plan.occupancy.chair_free(dose.chair_id, dose.start - turnover, dose.blocked_until)
        if chair_ok and plan.occupancy.patient_free(plan.patient.id, dose.start, dose.end):
            continue
        conflicts = find_conflicts(chair_id=dose.chair_id, patient_id=plan.patient.id, start=dose.start,
                                   end=dose.end, chair_free_at=dose.blocked_until)
        if conflicts:
            raise conflict_error(conflicts, plan.patient.id, plan.site.timezone)


def stop_series(series: TreatmentSeries, reason: str, now: datetime, by: User | None) -> list[Appointment]:
    """Stop a series: cancel its appointments that have not started yet."""
    if series.status != "active":
        raise BookingConflict(f"Series #{series.id} is already {series.status}.")
    cancelled = [a for a in series.appointments if a.status == "scheduled" and a.start_at > now]
    for appointment in cancelled:
        appointment.status = "cancelled"
        appointment.reason = f"series stopped: {reason}"
    series.status = "stopped"
    series.stop_reason = reason
    db.session.flush()
    return cancelled




def preview_flags(plan: SeriesPlan, today: date) -> dict[int, list[Flag]]:
    """Return the monitoring flags each placed dose of a preview would carry."""
    from clinic.monitoring.flags import proposed_flags

    doses = [(p.target.number, p.start, p.end, p.target.observation_minutes) for p in plan.placement.placed]
    return proposed_flags(plan.patient.id, plan.protocol, doses, plan.site.id, plan.site.timezone, today)


def recompute_doses(patient: Patient, now: datetime) -> list[tuple[Appointment, float | None, float]]:
    """Re-dose the patient's future appointments after a weight or height change.

    Returns (appointment, old amount, new amount) for each dose that changed.
    Fixed doses do not change; a dose that cannot be computed any more (a
    measure removed) keeps its amount.
    """
    series_rows = db.session.scalars(
        sa.select(TreatmentSeries).where(TreatmentSeries.patient_id == patient.id, TreatmentSeries.status == "active")
    )
    measures = Measures(patient.weight_kg, patient.height_cm)
    changed = []
    for series in series_rows:
        future = [a for a in series.appointments if a.start_at > now and a.status in ("scheduled", "held") and a.dose_number]
        if not future:
            continue
        try:
            regimen = parse_regimen(series.protocol.definition, series.protocol.code)
            amounts = {t.number: t.amount for t in plan_doses(regimen, series.day0, measures,
                                                              max_doses=max(a.dose_number or 0 for a in future))}
        except PlanningError:
            continue
        for appointment in future:
            new = amounts.get(appointment.dose_number or 0)
            if new is not None and new != appointment.dose_amount:
                changed.append((appointment, appointment.dose_amount, new))
                appointment.dose_amount = new
        series.weight_kg, series.height_cm = patient.weight_kg, patient.height_cm
    db.session.flush()
    return changed
