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
from clinic.domain.targets import Measures
from clinic.protocols.services import current_protocol, sync_catalog
from clinic.scheduling.models import Chair, Closure, OpeningHours, Site


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


def seed_patients(count: int = data.PATIENT_COUNT) -> list[Patient]:
    """Create the demo patients (by MRN, once) with their diagnoses."""
    patients = []
    for n in range(count):
        rng = random.Random(2027 + n)  # per patient: a smaller demo is a prefix of a larger one
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
                family_name=data.FAMILY[(n + 3 * (n // len(data.FAMILY))) % len(data.FAMILY)],
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


def _day0(patient: Patient, entry: dict, monday: date, rng: random.Random) -> date:
    """Pick day 0 (in the past year) so that a dose of the series falls in the demo week."""
    from clinic.protocols.services import plan_entry

    friday = monday + timedelta(days=4)
    weeks_back = list(range(0, 52))
    rng.shuffle(weeks_back)
    measures = Measures(patient.weight_kg, patient.height_cm)
    for back in weeks_back:
        day0 = monday + timedelta(days=rng.randrange(0, 5)) - timedelta(weeks=back)
        targets = plan_entry(entry, day0, measures, 60)
        if any(monday <= t.target_date <= friday for t in targets):
            return day0
    return monday


#: plausible results for the demo's screenings (value: neutrophils, JCV index, g/L, µmol/L)
DEMO_RESULTS = {
    "hbv": ("negative", None), "tb": ("negative", None), "jcv": ("negative", 0.3), "igg": ("done", 8.4),
    "cbc": ("done", 3.2), "creatinine": ("done", 78.0), "pregnancy": ("negative", None),
    "meningococcal_vaccine": ("done", None), "iga": ("done", 1.9), "lft": ("done", None),
}


def seed_screenings(patient: Patient, entry: dict, day0: date, today: date, rng: random.Random) -> None:
    """Record the screenings the protocol asks for; now and then one is missing."""
    from clinic.domain.policy import MonitoringPolicy
    from clinic.patients.models import Screening

    skip = rng.randrange(9) == 0  # about one patient in nine has a gap to follow up
    for index, requirement in enumerate(MonitoringPolicy.from_entry(entry).screenings):
        if skip and index == 0:
            continue
        if requirement.when == "before_first":
            collected = day0 - timedelta(days=max(20, requirement.min_days_before_first + 7))
        elif requirement.when == "before_each":
            collected = today - timedelta(days=1)
        else:
            collected = today - timedelta(days=rng.randrange(10, 150))
        result, value = DEMO_RESULTS[requirement.test]
        patient.screenings.append(Screening(test=requirement.test, result=result, value=value, collected_on=collected))


def seed_series(site: Site, patients: list[Patient], today: date, now: datetime) -> int:
    """Book each patient's protocol through the booking service, once per patient."""
    from clinic.scheduling.booking import SeriesRequest, book_series
    from clinic.scheduling.conflicts import BookingProblem
    from clinic.scheduling.models import TreatmentSeries

    booked = set(db.session.scalars(sa.select(TreatmentSeries.patient_id)))
    scheduler = find_user("scheduler")
    monday = today - timedelta(days=today.weekday())
    rng = random.Random(4711)
    created = 0
    for index, patient in enumerate(patients):
        if patient.id in booked:
            continue
        protocol_code = data.DIAGNOSES[index % len(data.DIAGNOSES)][2]
        protocol = current_protocol(protocol_code)
        assert protocol is not None
        day0 = _day0(patient, protocol.definition, monday, rng)
        request = SeriesRequest(
            patient_id=patient.id, protocol_code=protocol_code, start_date=day0, site_id=site.id,
            preferred_time=time(8 + rng.randrange(0, 7), rng.choice((0, 30))),
            horizon_days=(monday - day0).days + 42,
        )
        try:
            _series, plan = book_series(request, scheduler)
        except BookingProblem:
            continue  # a full demo week: this patient simply has no series
        seed_screenings(patient, protocol.definition, day0, today, rng)
        for appointment in plan.appointments:
            if appointment.end_at <= now:
                appointment.status = "completed"
                appointment.actual_start_at = appointment.start_at
                appointment.actual_end_at = appointment.end_at
                appointment.administered_amount = appointment.dose_amount
        created += 1
    db.session.flush()
    return created


def seed_demo(today: date, now: datetime | None = None, patient_count: int = data.PATIENT_COUNT) -> None:
    """Create the whole demo clinic; running it again changes nothing."""
    now = now or datetime.combine(today, time(7, 0), UTC)
    sync_catalog()
    seed_users()
    site = seed_site(today)
    patients = seed_patients(patient_count)
    seed_series(site, patients, today, now)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo clinic (idempotent)."""
    now = datetime.now(UTC)
    seed_demo(now.astimezone(ZoneInfo(data.SITE["timezone"])).date(), now)
    db.session.commit()
    click.echo("demo clinic ready; sign in as:")
    for username, role, _name in data.USERS:
        click.echo(f"  {username:<10} password {data.DEMO_PASSWORD}  ({role})")
