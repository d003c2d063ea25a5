"""Small factories with sensible defaults (they add and flush)."""

from __future__ import annotations

from datetime import date, time
from itertools import count
from typing import Any

from clinic.extensions import db
from clinic.patients.models import Diagnosis, Patient
from clinic.scheduling.models import Chair, OpeningHours, Site

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
