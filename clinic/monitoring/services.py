"""Monitoring use cases: record observations and screenings, acknowledge flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.domain.monitoring import Flag
from clinic.extensions import db
from clinic.monitoring.flags import acknowledgements, appointment_flags, rechallenge_key
from clinic.monitoring.models import FlagAck, Observation
from clinic.patients.models import Patient, Screening
from clinic.scheduling.conflicts import BookingProblem
from clinic.scheduling.models import Appointment

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
