"""`flask seed-demo` builds a realistic clinic and is idempotent."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.demo import seed_demo
from clinic.extensions import db
from clinic.models import Appointment, Chair, Closure, Diagnosis, OpeningHours, Patient, Protocol, Site
from tests.conftest import count

MODELS = (Site, Chair, OpeningHours, Closure, Patient, Diagnosis, Protocol, User, Appointment)
TODAY = date(2026, 11, 25)


def snapshot() -> dict[str, int]:
    return {model.__name__: count(model) for model in MODELS}


def test_seed_twice_gives_the_same_rows(session) -> None:
    seed_demo(TODAY)
    first = snapshot()
    seed_demo(TODAY)
    assert snapshot() == first


def test_seed_builds_the_demo_clinic(session) -> None:
    seed_demo(TODAY)
    site = db.session.scalar(sa.select(Site))
    assert site.timezone == "Europe/Berlin"
    kinds = [c.kind for c in site.chairs]
    assert len(kinds) == 12 and kinds.count("bed") == 2
    assert sorted(h.weekday for h in site.hours) == [0, 1, 2, 3, 4]
    closures = {c.day: c.reason for c in db.session.scalars(sa.select(Closure))}
    assert date(2026, 12, 25) in closures and date(2027, 1, 1) in closures
    assert all(TODAY <= day <= date(2027, 11, 25) for day in closures)
    assert 35 <= count(Patient) <= 45
    codes = {d.code for d in db.session.scalars(sa.select(Diagnosis))}
    for prefix in ("G35", "M05", "M06", "M31.3", "M31.7", "M33", "M32", "G36.0", "G70.0", "G61.8"):
        assert any(code.startswith(prefix) for code in codes), prefix
    assert {u.role for u in db.session.scalars(sa.select(User))} == {"admin", "scheduler", "nurse", "viewer"}
    assert count(Protocol) == 19
    appointments = list(db.session.scalars(sa.select(Appointment)))
    assert len(appointments) >= 5
    monday = date(2026, 11, 23)
    assert all(monday <= a.start_at.date() <= date(2026, 11, 27) for a in appointments)


def test_seed_demo_command_prints_the_logins(app, session) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "scheduler" in result.output and "clinic-demo" in result.output
