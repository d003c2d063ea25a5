"""`flask seed-demo` builds a realistic clinic and is idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.demo import seed_demo
from clinic.extensions import db
from clinic.models import (
    Appointment,
    Chair,
    Closure,
    Diagnosis,
    OpeningHours,
    Patient,
    Protocol,
    Site,
    TreatmentSeries,
)
from tests.conftest import count

MODELS = (Site, Chair, OpeningHours, Closure, Patient, Diagnosis, Protocol, User, Appointment)
TODAY = date(2026, 11, 25)


def snapshot() -> dict[str, int]:
    return {model.__name__: count(model) for model in MODELS}


NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_seed_twice_gives_the_same_rows(session) -> None:
    seed_demo(TODAY, NOW, patient_count=40)
    first = snapshot()
    seed_demo(TODAY, NOW, patient_count=40)
    assert snapshot() == first


def test_seed_builds_the_demo_clinic(session) -> None:
    seed_demo(TODAY, NOW, patient_count=40)
    site = db.session.scalar(sa.select(Site))
    assert site.timezone == "Europe/Berlin"
    kinds = [c.kind for c in site.chairs]
    assert len(kinds) == 12 and kinds.count("bed") == 2
    assert sorted(h.weekday for h in site.hours) == [0, 1, 2, 3, 4]
    closures = {c.day: c.reason for c in db.session.scalars(sa.select(Closure))}
    assert date(2026, 12, 25) in closures and date(2027, 1, 1) in closures
    assert all(TODAY <= day <= date(2027, 11, 25) for day in closures)
    assert count(Patient) == 40
    codes = {d.code for d in db.session.scalars(sa.select(Diagnosis))}
    for prefix in ("G35", "M05", "M06", "M31.3", "M31.7", "M33", "M32", "G36.0", "G70.0", "G61.8"):
        assert any(code.startswith(prefix) for code in codes), prefix
    assert {u.role for u in db.session.scalars(sa.select(User))} == {"admin", "scheduler", "nurse", "viewer"}
    assert count(Protocol) == 19
    assert count(TreatmentSeries) >= 38  # booked through the same service as staff use
    past = db.session.scalars(sa.select(Appointment).where(Appointment.end_at <= NOW))
    assert {a.status for a in past} == {"completed"}


def test_demo_week_looks_like_a_real_infusion_room(session) -> None:
    seed_demo(TODAY, NOW)
    week_start = datetime(2026, 11, 23, tzinfo=UTC) - timedelta(hours=1)
    rows = list(db.session.scalars(sa.select(Appointment).where(
        Appointment.start_at >= week_start, Appointment.start_at < week_start + timedelta(days=5),
        Appointment.status != "cancelled")))
    chair_hours = sum((a.chair_free_at - a.start_at).total_seconds() / 3600 for a in rows)
    open_hours = 12 * 10 * 5
    assert 0.6 <= chair_hours / open_hours <= 0.8, chair_hours / open_hours
    assert len({a.protocol_id for a in rows}) >= 15  # a mix of protocols


def test_seed_demo_command_prints_the_logins(app, session) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "scheduler" in result.output and "clinic-demo" in result.output
