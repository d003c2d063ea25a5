"""`flask seed-demo`: an idempotent demo clinic."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
import holidays
import sqlalchemy as sa
from flask.cli import with_appcontext

from clinic import demo_data as data
from clinic.auth.services import create_user, find_user
from clinic.extensions import db
from clinic.patients.models import Diagnosis, Patient
from clinic.protocols.services import current_protocol, sync_catalog
from clinic.scheduling.models import Appointment, Chair, Closure, OpeningHours, Site


def seed_site(today: date) -> Site:
    """Create or update the demo site, its chairs, hours and holiday closures."""
    site = db.session.scalar(sa.select(Site).where(Site.name == data.SITE["name"]))
    if site is None:
        site = Site(**data.SITE)
        db.session.add(site)
        db.session.flush()
    existing_chairs = {c.label for c in site.chairs}
    for position, (label, kind) in enumerate(data.CHAIRS):
        if label not in existing_chairs:
            site.chairs.append(Chair(label=label, kind=kind, position=position))
    existing_days = {h.weekday for h in site.hours}
    opens, closes = (time.fromisoformat(t) for t in data.OPENING)
    for weekday in range(5):
        if weekday not in existing_days:
            site.hours.append(OpeningHours(weekday=weekday, opens_at=opens, closes_at=closes))
    add_holiday_closures(site, today, today + timedelta(days=365))
    db.session.flush()
    return site


def add_holiday_closures(site: Site, first: date, last: date) -> list[Closure]:
    """Add the site's public holidays between two dates as closures (once)."""
    if not site.holiday_country:
        return []
    calendar = holidays.country_holidays(
        site.holiday_country,
        subdiv=site.holiday_subdivision or None,
        years=range(first.year, last.year + 1),
    )
    known = set(
        db.session.scalars(
            sa.select(Closure.day).where(Closure.site_id == site.id, Closure.day.between(first, last))
        )
    )
    added = []
    for day, name in sorted(calendar.items()):
        if first <= day <= last and day not in known:
            closure = Closure(site_id=site.id, day=day, reason=name, source="holiday")
            db.session.add(closure)
            added.append(closure)
    return added


def seed_users() -> None:
    """Create one demo user per role (existing ones are left alone)."""
    for username, role, full_name in data.USERS:
        if find_user(username) is None:
            create_user(username, role, data.DEMO_PASSWORD, full_name=full_name)


def seed_patients() -> list[Patient]:
    """Create the demo patients (by MRN, once) with their diagnoses."""
    rng = random.Random(2027)
    patients = []
    for n in range(data.PATIENT_COUNT):
        mrn = f"RIC-{100101 + n}"
        sex = "female" if n % 3 != 1 else "male"
        given_names = data.GIVEN_FEMALE if sex == "female" else data.GIVEN_MALE
        code, label, _protocol = data.DIAGNOSES[n % len(data.DIAGNOSES)]
        weight = round(rng.uniform(52, 98) if sex == "female" else rng.uniform(64, 118), 1)
        height = round(rng.uniform(156, 178) if sex == "female" else rng.uniform(168, 192))
        patient = db.session.scalar(sa.select(Patient).where(Patient.mrn == mrn))
        if patient is None:
            patient = Patient(
                mrn=mrn,
                given_name=given_names[n % len(given_names)],
                family_name=data.FAMILY[n % len(data.FAMILY)],
                birth_date=date(1950 + rng.randrange(0, 52), rng.randrange(1, 13), rng.randrange(1, 29)),
                sex=sex,
                weight_kg=weight,
                height_cm=height,
                measured_on=date(2026, 10, 1) + timedelta(days=n),
                phone=f"+49 30 {5550100 + n}",
                allergies="Penicillin" if n % 11 == 3 else "",
            )
            patient.diagnoses.append(
                Diagnosis(code=code, label=label, since=date(2015 + n % 10, 1 + n % 12, 1))
            )
            db.session.add(patient)
        patients.append(patient)
    db.session.flush()
    return patients


def seed_week_appointments(site: Site, patients: list[Patient], today: date) -> int:
    """Book a handful of first doses in the current week (Mon-Fri), once."""
    from clinic.domain.planning import plan_doses
    from clinic.domain.regimens import parse_regimen
    from clinic.domain.targets import Measures

    tz = ZoneInfo(site.timezone)
    monday = today - timedelta(days=today.weekday())
    closed = set(db.session.scalars(sa.select(Closure.day).where(Closure.site_id == site.id)))
    chairs = [c for c in site.chairs if c.kind == "chair"]
    created = 0
    for index, patient in enumerate(patients[:20]):
        day = monday + timedelta(days=index % 5)
        if day in closed:
            continue
        _code, _label, protocol_code = data.DIAGNOSES[index % len(data.DIAGNOSES)]
        protocol = current_protocol(protocol_code)
        if protocol is None:
            continue
        dose = plan_doses(
            parse_regimen(protocol.definition), day, Measures(patient.weight_kg, patient.height_cm), max_doses=1
        )[0]
        chair = chairs[(index // 5) % len(chairs)]
        start = datetime.combine(day, time(8, 30) if index // 5 % 2 == 0 else time(12, 30), tz).astimezone(UTC)
        exists = db.session.scalar(
            sa.select(Appointment.id).where(Appointment.patient_id == patient.id, Appointment.start_at == start)
        )
        if exists:
            continue
        end = start + timedelta(minutes=dose.infusion_minutes + dose.observation_minutes)
        db.session.add(
            Appointment(
                patient_id=patient.id, site_id=site.id, chair_id=chair.id, protocol_id=protocol.id,
                dose_number=1, phase=dose.phase, target_date=day, earliest=day, latest=day,
                start_at=start, end_at=end, chair_free_at=end + timedelta(minutes=site.turnover_minutes),
                dose_amount=dose.amount, dose_unit=dose.unit,
                infusion_minutes=dose.infusion_minutes, observation_minutes=dose.observation_minutes,
            )
        )
        created += 1
    db.session.flush()
    return created


def seed_demo(today: date) -> None:
    """Create the whole demo clinic; running it again changes nothing."""
    sync_catalog()
    seed_users()
    site = seed_site(today)
    patients = seed_patients()
    seed_week_appointments(site, patients, today)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo clinic (idempotent)."""
    today = datetime.now(ZoneInfo(data.SITE["timezone"])).date()
    seed_demo(today)
    db.session.commit()
    click.echo("demo clinic ready; sign in as:")
    for username, role, _name in data.USERS:
        click.echo(f"  {username:<10} password {data.DEMO_PASSWORD}  ({role})")
