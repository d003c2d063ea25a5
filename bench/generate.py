"""Generate a realistic busy clinic fast (bulk Core inserts, no placement).

3 sites x 40 chairs (4 beds each), Mon-Fri 08:00-18:00, 6,000 patients, the
19 protocols, and appointments packed into chairs day after day (about four a
chair a day, 70-80 % of chair hours). No two rows overlap on a chair or a
patient, so the database's own guards accept them.

``grow_to(app, total)`` adds appointments until the table holds ``total``
rows: the measured day (``MEASURED_DAY``) is filled first, older days after,
so its load stays the same at every size.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask

from clinic.auth.services import create_user
from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.protocols.models import Protocol
from clinic.protocols.services import sync_catalog
from clinic.scheduling.models import Appointment, Chair, OpeningHours, Site

SITES = 3
CHAIRS_PER_SITE = 40
PATIENTS = 6_000
MEASURED_DAY = date(2027, 3, 10)  # a Wednesday
TZ = "Europe/Berlin"
# (chair minutes, protocol index) patterns that fill a 10-hour chair day
DAY_PATTERNS = [(120, 0), (195, 5), (90, 2), (120, 12)], [(270, 1), (150, 11), (120, 7)], [(60, 13), (95, 16), (255, 5), (90, 3)]


def build_clinic(app: Flask) -> None:
    """Create sites, chairs, hours, protocols, patients and a scheduler."""
    with app.app_context():
        sync_catalog()
        create_user("bench", "scheduler", "bench-password")
        for n in range(SITES):
            site = Site(name=f"Bench site {n + 1}", timezone=TZ, max_starts_per_slot=6)
            site.chairs = [Chair(label=f"Chair {i + 1}", kind="bed" if i >= CHAIRS_PER_SITE - 4 else "chair",
                                 position=i) for i in range(CHAIRS_PER_SITE)]
            site.hours = [OpeningHours(weekday=d, opens_at=time(8), closes_at=time(18)) for d in range(5)]
            db.session.add(site)
        rng = random.Random(6000)
        db.session.execute(sa.insert(Patient), [
            {"mrn": f"B-{n:06d}", "given_name": "Bench", "family_name": f"Patient{n:05d}",
             "birth_date": date(1950 + n % 50, 1 + n % 12, 1 + n % 28), "sex": "female" if n % 2 else "male",
             "weight_kg": round(rng.uniform(50, 110), 1), "height_cm": round(rng.uniform(155, 195)),
             "allergies": "", "phone": "", "email": "", "notes": "",
             "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
            for n in range(PATIENTS)
        ])
        db.session.commit()


def _days() -> list[date]:
    """Open days to fill: the measured day first, then backwards in time."""
    days, day = [], MEASURED_DAY
    while len(days) < 20_000:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days


def _rows_for_day(day: date, day_index: int, chairs: list[tuple[int, int]], protocols: list[int],
                  turnover: timedelta) -> list[dict]:
    zone = ZoneInfo(TZ)
    rows, now = [], datetime.now(UTC)
    status = "completed" if day < MEASURED_DAY else "scheduled"
    for chair_index, (site_id, chair_id) in enumerate(chairs):
        start = datetime.combine(day, time(8), zone).astimezone(UTC)
        pattern = DAY_PATTERNS[(chair_index + day_index) % len(DAY_PATTERNS)]
        for slot, (minutes, protocol_index) in enumerate(pattern):
            # distinct patients within a day: 120 chairs x <= 4 slots < 6,000
            patient = 1 + (day_index * 480 + chair_index * 4 + slot) % PATIENTS
            end = start + timedelta(minutes=minutes)
            rows.append({
                "patient_id": patient, "site_id": site_id, "chair_id": chair_id,
                "protocol_id": protocols[protocol_index % len(protocols)], "dose_number": 1 + day_index // 20,
                "phase": "maintenance", "target_date": day, "earliest": day, "latest": day,
                "start_at": start, "end_at": end, "chair_free_at": end + turnover,
                "dose_amount": 300.0, "dose_unit": "mg", "infusion_minutes": minutes - 30,
                "observation_minutes": 30, "status": status, "reason": "", "notes": "",
                "discharge_override_reason": "", "lot_number": "", "created_at": now, "updated_at": now,
            })
            start = end + turnover
    return rows


def grow_to(app: Flask, total: int) -> int:
    """Insert appointments until the table has ``total`` rows; return the count."""
    with app.app_context():
        have = db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) or 0
        chairs = [(s, c) for s, c in db.session.execute(sa.select(Chair.site_id, Chair.id).order_by(Chair.site_id, Chair.id))]
        protocols = list(db.session.scalars(sa.select(Protocol.id).order_by(Protocol.id)))
        turnover = timedelta(minutes=15)
        days = _days()
        per_day = len(_rows_for_day(MEASURED_DAY, 0, chairs, protocols, turnover))
        day_index = have // per_day
        batch: list[dict] = []
        while have + len(batch) < total and day_index < len(days):
            batch += _rows_for_day(days[day_index], day_index, chairs, protocols, turnover)
            day_index += 1
            if len(batch) >= 20_000:
                db.session.execute(sa.insert(Appointment), batch)
                have += len(batch)
                batch = []
        if batch:
            db.session.execute(sa.insert(Appointment), batch)
            have += len(batch)
        db.session.commit()
        return have
