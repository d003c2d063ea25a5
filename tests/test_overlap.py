"""The database refuses double bookings (raw inserts, both databases).

The 8 interval cases of STYLE.md against an existing booking 10:00-11:00
(half-open): before, touching before, overlapping start, containing,
identical, overlapping end, touching after, after.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from clinic.database import overlap_kind
from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.scheduling.models import Appointment, Chair, Site

DAY = date(2027, 3, 10)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), UTC)


# (name, start, end, overlaps 10:00-11:00?)
CASES = [
    ("before", at(8), at(9), False),
    ("touching before", at(9), at(10), False),
    ("overlapping start", at(9, 30), at(10, 30), True),
    ("containing", at(9), at(12), True),
    ("identical", at(10), at(11), True),
    ("overlapping end", at(10, 30), at(11, 30), True),
    ("touching after", at(11), at(12), False),
    ("after", at(12), at(13), False),
]


@pytest.fixture
def world(session):
    site = Site(name="Overlap site", timezone="Europe/Berlin", max_starts_per_slot=2)
    db.session.add(site)
    db.session.flush()
    chairs = [Chair(site_id=site.id, label=f"C{n}") for n in (1, 2)]
    patients = [
        Patient(mrn=f"OV-{n}", given_name="Test", family_name=f"Patient{n}", birth_date=date(1980, 1, 1), sex="female")
        for n in (1, 2)
    ]
    db.session.add_all(chairs + patients)
    db.session.flush()
    return site, chairs, patients


def raw_insert(site, chair, patient, start, end, status="scheduled", chair_free_at=None) -> None:
    """Insert with Core (no ORM, no app checks): only the database stands guard."""
    db.session.execute(
        sa.insert(Appointment.__table__).values(
            site_id=site.id, chair_id=chair.id, patient_id=patient.id,
            start_at=start, end_at=end, chair_free_at=chair_free_at or end,
            status=status, infusion_minutes=0, observation_minutes=0,
            reason="", notes="", discharge_override_reason="", lot_number="",
            created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
        )
    )


def attempt(site, chair, patient, start, end, **kw) -> str | None:
    """Insert in a savepoint; return the overlap kind refused, or None."""
    nested = db.session.begin_nested()
    try:
        raw_insert(site, chair, patient, start, end, **kw)
    except IntegrityError as error:
        nested.rollback()
        return overlap_kind(error) or "other"
    nested.commit()
    return None


@pytest.mark.parametrize("name,start,end,clash", CASES, ids=[c[0] for c in CASES])
def test_same_chair(world, name, start, end, clash) -> None:
    site, (chair, _), (first, second) = world
    raw_insert(site, chair, first, at(10), at(11))
    assert attempt(site, chair, second, start, end) == ("chair" if clash else None)


@pytest.mark.parametrize("name,start,end,clash", CASES, ids=[c[0] for c in CASES])
def test_same_patient(world, name, start, end, clash) -> None:
    site, (chair_a, chair_b), (patient, _) = world
    raw_insert(site, chair_a, patient, at(10), at(11))
    assert attempt(site, chair_b, patient, start, end) == ("patient" if clash else None)


@pytest.mark.parametrize("status", ["cancelled", "no_show"])
def test_cancelled_and_no_show_do_not_block(world, status) -> None:
    site, (chair, _), (first, second) = world
    raw_insert(site, chair, first, at(10), at(11), status=status)
    assert attempt(site, chair, second, at(10), at(11)) is None


def test_turnover_blocks_the_chair_not_the_patient(world) -> None:
    site, (chair_a, chair_b), (first, second) = world
    raw_insert(site, chair_a, first, at(10), at(11), chair_free_at=at(11, 15))
    assert attempt(site, chair_a, second, at(11), at(12)) == "chair"
    assert attempt(site, chair_a, second, at(11, 15), at(12)) is None
    assert attempt(site, chair_b, first, at(11), at(12)) is None


def test_update_into_overlap_is_refused(world) -> None:
    site, (chair_a, chair_b), (first, second) = world
    raw_insert(site, chair_a, first, at(10), at(11))
    raw_insert(site, chair_b, second, at(10), at(11))
    moved = db.session.scalar(sa.select(Appointment.id).where(Appointment.patient_id == second.id))
    nested = db.session.begin_nested()
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(
            sa.update(Appointment.__table__).where(Appointment.id == moved).values(chair_id=chair_a.id)
        )
    nested.rollback()
    assert overlap_kind(caught.value) == "chair"


def test_reactivating_a_cancelled_row_into_overlap_is_refused(world) -> None:
    site, (chair, _), (first, second) = world
    raw_insert(site, chair, first, at(10), at(11), status="cancelled")
    raw_insert(site, chair, second, at(10), at(11))
    cancelled = db.session.scalar(sa.select(Appointment.id).where(Appointment.patient_id == first.id))
    nested = db.session.begin_nested()
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(
            sa.update(Appointment.__table__).where(Appointment.id == cancelled).values(status="scheduled")
        )
    nested.rollback()
    assert overlap_kind(caught.value) == "chair"
