"""Monitoring use cases: record observations and screenings, acknowledge flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.domain.monitoring import Flag
from clinic.extensions import db
from clinic.monitoring.flags import acknowledgements, appointment_flags, rechallenge_key
from clinic.monitoring.models import FlagAck, Observation
from clinic.patients.models import Patient, Screening
from clinic.scheduling.changes import change_status
from clinic.scheduling.conflicts import BookingProblem
from clinic.scheduling.models import Appointment, Site

VITAL_FIELDS = (
    "temperature_c", "heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "spo2",
    "weight_kg", "consciousness_alert", "on_oxygen", "active_infection",
)
#: which observation phases fit which appointment status
PHASES_BY_STATUS = {
    "pre": ("scheduled", "checked_in", "held"),
    "during": ("in_chair",),
    "post": ("in_chair", "completed"),
}


def record_observation(appointment: Appointment, values: dict[str, Any], by: User | None,
                       now: datetime) -> Observation:
    """Add one set of vitals (and reaction grade) to the infusion record."""
    phase = values["phase"]
    if appointment.status not in PHASES_BY_STATUS[phase]:
        message = f"A {phase} observation does not fit a {appointment.status.replace('_', ' ')} appointment."
        raise BookingProblem(message, {"phase": [message]})
    recorded_at = values.get("recorded_at") or now
    if recorded_at > now + timedelta(minutes=5):
        raise BookingProblem("An observation cannot be recorded in the future.",
                             {"recorded_at": ["Must not be in the future."]})
    observation = Observation(
        appointment_id=appointment.id, phase=phase, recorded_at=recorded_at,
        recorded_by_id=by.id if by else None,
        reaction_grade=values.get("reaction_grade"), symptoms=list(values.get("symptoms") or []),
        actions=values.get("actions") or "", notes=values.get("notes") or "",
        **{name: values.get(name) for name in VITAL_FIELDS},
    )
    db.session.add(observation)
    if phase == "pre" and values.get("weight_kg"):
        patient = db.session.get(Patient, appointment.patient_id)
        if patient is not None:
            patient.weight_kg = values["weight_kg"]
            patient.measured_on = recorded_at.date()
    db.session.flush()
    return observation


def record_screening(patient: Patient, values: dict[str, Any], by: User | None) -> Screening:
    """Add a screening result to the patient's record."""
    screening = Screening(
        patient_id=patient.id, test=values["test"], result=values["result"], value=values.get("value"),
        collected_on=values["collected_on"], notes=values.get("notes") or "", recorded_by_id=by.id if by else None,
    )
    db.session.add(screening)
    db.session.flush()
    return screening


def acknowledge(flag: Flag, by: User, note: str = "") -> FlagAck:
    """Record that ``by`` has seen the flag (once; a second call returns the first)."""
    existing = acknowledgements([flag.key]).get(flag.key)
    if existing is not None:
        return existing
    ack = FlagAck(flag_key=flag.key, code=flag.code, action="acknowledged", patient_id=flag.patient_id,
                  appointment_id=flag.appointment_id, acknowledged_by_id=by.id, note=note)
    db.session.add(ack)
    db.session.flush()
    return ack


def clear_rechallenge(past_appointment: Appointment, by: User, note: str) -> FlagAck:
    """Record a prescriber's clearance to give the drug again after a grade >= 3 reaction."""
    key = rechallenge_key(past_appointment.id)
    existing = db.session.scalar(sa.select(FlagAck).where(FlagAck.flag_key == key, FlagAck.action == "cleared"))
    if existing is not None:
        return existing
    ack = FlagAck(flag_key=key, code="do_not_rechallenge", action="cleared", patient_id=past_appointment.patient_id,
                  appointment_id=past_appointment.id, acknowledged_by_id=by.id, note=note)
    db.session.add(ack)
    db.session.flush()
    return ack


@dataclass(frozen=True)
class FlagView:
    """A flag with who acknowledged it, for pages and the API."""

    flag: Flag
    ack: FlagAck | None


def flags_with_acks(appointments: list[Appointment], today: date) -> dict[int, list[FlagView]]:
    """Return each appointment's flags with their acknowledgements (two extra queries)."""
    flags = appointment_flags(appointments, today)
    acks = acknowledgements(f.key for items in flags.values() for f in items)
    return {aid: [FlagView(f, acks.get(f.key)) for f in items] for aid, items in flags.items()}


def unacknowledged_critical(appointment: Appointment, today: date) -> list[Flag]:
    """Return the appointment's critical flags nobody has acknowledged yet."""
    views = flags_with_acks([appointment], today).get(appointment.id, [])
    return [v.flag for v in views if v.flag.severity == "critical" and v.ack is None]


# -- the nurse's infusion record: start, end, complete, and the page's facts --

#: how far ahead of the server's clock a typed time may be (tablet clocks drift)
CLOCK_SKEW = timedelta(minutes=5)


def _check_not_future(at: datetime, now: datetime, field: str) -> None:
    if at > now + CLOCK_SKEW:
        raise BookingProblem("A time in the future cannot be recorded.", {field: ["Must not be in the future."]})


def _local_clock(instant: datetime, appointment: Appointment) -> str:
    site = db.session.get(Site, appointment.site_id)
    return f"{instant.astimezone(ZoneInfo(site.timezone if site else 'UTC')):%H:%M}"


def has_precheck(appointment: Appointment) -> bool:
    """Return True once a pre-check observation is on record."""
    query = sa.select(Observation.id).where(Observation.appointment_id == appointment.id, Observation.phase == "pre")
    return db.session.scalar(query.limit(1)) is not None


def start_infusion(appointment: Appointment, started_at: datetime | None, by: User | None, now: datetime) -> datetime:
    """Start the infusion after check-in and pre-check; refused while a critical flag is unacknowledged."""
    if appointment.status != "checked_in":
        raise BookingProblem(f"Only a checked-in appointment can start; this one is "
                             f"{appointment.status.replace('_', ' ')}.")
    if not has_precheck(appointment):
        raise BookingProblem("Record the pre-check (vitals and infection question) before starting.")
    started = started_at or now
    _check_not_future(started, now, "started_at")
    change_status(appointment, "in_chair", "", by, now)
    appointment.actual_start_at = started
    db.session.flush()
    return started


def end_infusion(appointment: Appointment, ended_at: datetime | None, by: User | None, now: datetime) -> datetime:
    """Record when the infusion ended (the observation time runs from here)."""
    if appointment.status != "in_chair" or appointment.actual_start_at is None:
        raise BookingProblem("Start the infusion before recording its end.")
    ended = ended_at or now
    _check_not_future(ended, now, "ended_at")
    if ended < appointment.actual_start_at:
        message = f"The end cannot be before the start ({_local_clock(appointment.actual_start_at, appointment)})."
        raise BookingProblem(message, {"ended_at": [message]})
    appointment.actual_end_at = ended
    db.session.flush()
    return ended


def observation_until(appointment: Appointment) -> datetime | None:
    """Return when the post-infusion observation time is over (None before the infusion ends)."""
    if appointment.actual_end_at is None:
        return None
    return appointment.actual_end_at + timedelta(minutes=appointment.observation_minutes)


def minutes_left(until: datetime | None, now: datetime) -> int | None:
    """Return the whole minutes (rounded up) from ``now`` until ``until``, never below 0."""
    if until is None:
        return None
    return max(0, ceil((until - now).total_seconds() / 60))


def complete_infusion(appointment: Appointment, values: dict[str, Any], by: User | None, now: datetime) -> datetime:
    """Discharge the patient: dose given, lot number; early discharge needs a reason."""
    if appointment.status != "in_chair" or appointment.actual_end_at is None:
        raise BookingProblem("Record the end of the infusion before completing.")
    discharged = values.get("discharged_at") or now
    _check_not_future(discharged, now, "discharged_at")
    ended = appointment.actual_end_at
    if discharged < ended:
        message = f"Discharge cannot be before the infusion ended ({_local_clock(ended, appointment)})."
        raise BookingProblem(message, {"discharged_at": [message]})
    until = observation_until(appointment)
    reason = (values.get("override_reason") or "").strip()
    early = until is not None and discharged < until
    if early and not reason:
        assert until is not None
        message = (f"The observation runs until {_local_clock(until, appointment)} "
                   f"({minutes_left(until, discharged)} min left): give a reason to discharge early.")
        raise BookingProblem(message, {"override_reason": [message]})
    change_status(appointment, "completed", "", by, now)
    appointment.actual_end_at = ended  # change_status stamps "now"; the infusion ended earlier
    appointment.discharged_at = discharged
    appointment.discharge_override_reason = reason if early else ""
    appointment.administered_amount = values["administered_amount"]
    appointment.lot_number = values["lot_number"].strip()
    db.session.flush()
    return discharged


def observations_of(appointment: Appointment) -> list[Observation]:
    """Return the appointment's observations in the order they were taken."""
    query = sa.select(Observation).where(Observation.appointment_id == appointment.id)
    return list(db.session.scalars(query.order_by(Observation.recorded_at, Observation.id)))


def find_flag(appointment: Appointment, key: str, today: date) -> Flag | None:
    """Return the appointment's flag with this key, if it is still raised."""
    views = flags_with_acks([appointment], today).get(appointment.id, [])
    return next((view.flag for view in views if view.flag.key == key), None)


@dataclass(frozen=True)
class InfusionRecord:
    """What the appointment page shows of the nurse's record."""

    flags: list[FlagView]
    observations: list[Observation]
    names: dict[int, str]
    observe_until: datetime | None
    minutes_left: int | None

    def of_phase(self, phase: str) -> list[Observation]:
        """Return the observations of one phase, oldest first."""
        return [o for o in self.observations if o.phase == phase]

    @property
    def pending_critical(self) -> list[FlagView]:
        """Return the critical flags nobody has acknowledged."""
        return [v for v in self.flags if v.flag.severity == "critical" and v.ack is None]


def infusion_record(appointment: Appointment, today: date, now: datetime) -> InfusionRecord:
    """Load the appointment's flags, observations and the names of who recorded them."""
    flags = flags_with_acks([appointment], today).get(appointment.id, [])
    observations = observations_of(appointment)
    ids = {o.recorded_by_id for o in observations} | {v.ack.acknowledged_by_id for v in flags if v.ack}
    ids.discard(None)
    users = db.session.scalars(sa.select(User).where(User.id.in_(ids))) if ids else []
    names = {user.id: user.display_name for user in users}
    until = observation_until(appointment)
    return InfusionRecord(flags, observations, names, until, minutes_left(until, now))


def acknowledge_key(appointment: Appointment, key: str, by: User, today: date) -> Flag | None:
    """Acknowledge the appointment's flag with this key; None when it is no longer raised."""
    flag = find_flag(appointment, key, today)
    if flag is not None:
        acknowledge(flag, by)
    return flag
