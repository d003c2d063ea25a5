"""Small factories with sensible defaults (they add and flush)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.extensions import db
from clinic.patients.models import Diagnosis, Patient
from clinic.scheduling.models import Appointment, Chair, OpeningHours, Site

_serial = count(1)


def make_patient(**fields: Any) -> Patient:
    n = next(_serial)
    diagnoses = fields.pop("diagnoses", [("G35", "Multiple sclerosis")])
    values: dict[str, Any] = {
        "mrn": f"T-{n:05d}",
        "given_name": "Alex",
        "family_name": f"Tester{n}",
        "birth_date": date(1980, 5, 17),
        "sex": "female",
        "weight_kg": 70.0,
        "height_cm": 175.0,
    }
    values.update(fields)
    patient = Patient(**values)
    for code, label in diagnoses:
        patient.diagnoses.append(Diagnosis(code=code, label=label))
    db.session.add(patient)
    db.session.flush()
    return patient


def make_site(chairs: int = 4, beds: int = 1, **fields: Any) -> Site:
    n = next(_serial)
    values: dict[str, Any] = {"name": f"Site {n}", "timezone": "Europe/Berlin", "max_starts_per_slot": 2}
    values.update(fields)
    site = Site(**values)
    db.session.add(site)
    db.session.flush()
    for position in range(chairs + beds):
        kind = "chair" if position < chairs else "bed"
        label = f"Chair {position + 1}" if kind == "chair" else f"Bed {position - chairs + 1}"
        db.session.add(Chair(site_id=site.id, label=label, kind=kind, position=position))
    for weekday in range(5):
        db.session.add(OpeningHours(site_id=site.id, weekday=weekday, opens_at=time(8), closes_at=time(18)))
    db.session.flush()
    return site



def make_appointment(
    site: Site,
    start: datetime,
    chair: Chair | None = None,
    patient: Patient | None = None,
    infusion_minutes: int = 60,
    observation_minutes: int = 30,
    **fields: Any,
) -> Appointment:
    """Book one appointment; a naive ``start`` is read as the site's local time."""
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(site.timezone))
    if chair is None:
        chair = db.session.scalars(sa.select(Chair).where(Chair.site_id == site.id).order_by(Chair.position)).first()
        assert chair is not None, "the site has no chairs"
    end = start + timedelta(minutes=infusion_minutes + observation_minutes)
    values: dict[str, Any] = {
        "patient_id": (patient or make_patient()).id,
        "site_id": site.id,
        "chair_id": chair.id,
        "start_at": start,
        "end_at": end,
        "chair_free_at": end + timedelta(minutes=site.turnover_minutes),
        "infusion_minutes": infusion_minutes,
        "observation_minutes": observation_minutes,
        "dose_amount": 300.0,
        "dose_unit": "mg",
        "dose_number": 1,
    }
    values.update(fields)
    appointment = Appointment(**values)
    db.session.add(appointment)
    db.session.flush()
    return appointment
