"""The flags worklist, acknowledgements, the nav count and rechallenge clearance on the patient page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import template_rendered

from clinic.extensions import db
from clinic.monitoring.flags import day_worklist
from clinic.monitoring.models import FlagAck
from clinic.monitoring.services import acknowledge, record_observation, record_screening
from clinic.patients.models import Patient
from clinic.protocols.services import current_protocol, sync_catalog
from clinic.scheduling.booking import SeriesRequest, book_series
from clinic.scheduling.models import Appointment, Site
from tests.conftest import count
from tests.factories import make_appointment, make_patient, make_site

BERLIN = ZoneInfo("Europe/Berlin")


def next_monday() -> date:
    today = datetime.now(BERLIN).date()
    return today + timedelta(days=7 - today.weekday())


def book(site: Site, users: dict[str, Any], patient: Patient, day: date, at: time) -> Appointment:
    """Book one natalizumab dose (needs a CBC before the first dose and JCV every 182 days)."""
    request = SeriesRequest(patient.id, "natalizumab-ms", day, site.id, preferred_time=at, doses=1)
    _series, plan = book_series(request, users["scheduler"])
    return plan.appointments[0]


@pytest.fixture
def clinic(session, users) -> Site:
    sync_catalog()
    return make_site(chairs=4, beds=1)


@pytest.fixture
def two_doses(clinic, users) -> tuple[Site, date, Appointment, Appointment]:
    """Early (no screening at all) at 09:00 and Late (CBC on file) at 10:00 on next Monday."""
    day = next_monday()
    early, late = make_patient(family_name="Early"), make_patient(family_name="Late")
    record_screening(late, {"test": "cbc", "result": "done", "value": 3.2, "collected_on": day - timedelta(days=20)},
                     users["nurse"])
    return clinic, day, book(clinic, users, early, day, time(9)), book(clinic, users, late, day, time(10))


def worklist_url(site: Site, day: date) -> str:
    return f"/flags/?site_id={site.id}&date={day.isoformat()}"


def ack_data(site: Site, day: date, appointment: Appointment, key: str) -> dict[str, str]:
    return {"appointment_id": str(appointment.id), "key": key, "site_id": str(site.id), "day": day.isoformat()}


def critical_key(site: Site, day: date) -> tuple[Appointment, str]:
    row = day_worklist(site, day, day)[0]
    assert row.flag.severity == "critical" and row.appointment is not None
    return row.appointment, row.flag.key


def test_worklist_groups_by_severity_then_time(signed_in, two_doses) -> None:
    site, day, early, late = two_doses
    rows = day_worklist(site, day, day)
    assert [(r.flag.severity, r.flag.code, r.appointment.id) for r in rows] == [
        ("critical", "screening_missing", early.id),
        ("warning", "first_infusion", early.id), ("warning", "screening_missing", early.id),
        ("warning", "first_infusion", late.id), ("warning", "screening_missing", late.id),
        ("info", "observation_required", early.id), ("info", "observation_required", late.id),
    ]
    page = signed_in("nurse").get(worklist_url(site, day)).get_data(as_text=True)
    critical, warning, info = (page.index(f'id="flags-{s}"') for s in ("critical", "warning", "info"))
    assert critical < warning < info
    assert "Early" in page[critical:warning] and "Late" not in page[critical:warning]
    assert page.index("Early", warning) < page.index("Late", warning) < info
    assert f'href="/appointments/{early.id}"' in page and f'href="/patients/{late.patient_id}"' in page
    assert "No CBC on record" in page and "5 open critical/warning" in page
    assert page.count(">Acknowledge</button>") == 7


def test_empty_day_and_default_today(signed_in, clinic) -> None:
    client = signed_in("viewer")
    page = client.get("/flags/").get_data(as_text=True)
    assert "No flags for" in page and ">today<" in page
    assert 'aria-current="page"' in page and 'href="/flags/"' in page  # in the nav, marked current


@pytest.mark.parametrize("query,status", [("date=2027-13-01", 400), ("site_id=abc", 400), ("site_id=999999", 404)])
def test_bad_worklist_query(signed_in, clinic, query: str, status: int) -> None:
    assert signed_in("viewer").get(f"/flags/?{query}").status_code == status


def test_acknowledge_records_who_and_when(signed_in, two_doses, users) -> None:
    site, day, _early, _late = two_doses
    appointment, key = critical_key(site, day)
    client = signed_in("nurse")
    response = client.post("/flags/acknowledge", data=ack_data(site, day, appointment, key))
    assert response.status_code == 302
    assert response.headers["Location"] == worklist_url(site, day)
    ack = db.session.scalar(sa.select(FlagAck).where(FlagAck.flag_key == key))
    assert ack is not None and ack.acknowledged_by_id == users["nurse"].id and ack.action == "acknowledged"
    assert abs(datetime.now(UTC) - ack.acknowledged_at) < timedelta(minutes=1)
    assert ack.appointment_id == appointment.id and ack.patient_id == appointment.patient_id
    page = client.get(worklist_url(site, day)).get_data(as_text=True)
    assert "Acknowledged: No CBC on record" in page and "nurse1," in page
    assert page.count(">Acknowledge</button>") == 6 and "4 open critical/warning" in page


def test_second_acknowledge_is_harmless(signed_in, two_doses, users) -> None:
    site, day, _early, _late = two_doses
    appointment, key = critical_key(site, day)
    acknowledge(day_worklist(site, day, day)[0].flag, users["nurse"])
    client = signed_in("admin")
    response = client.post("/flags/acknowledge", data=ack_data(site, day, appointment, key), follow_redirects=True)
    assert response.status_code == 200 and "Already acknowledged by nurse1" in response.get_data(as_text=True)
    acks = db.session.scalars(sa.select(FlagAck)).all()
    assert len(acks) == 1 and acks[0].acknowledged_by_id == users["nurse"].id


def test_a_flag_no_longer_raised_is_not_acknowledged(signed_in, two_doses) -> None:
    site, day, early, _late = two_doses
    client = signed_in("scheduler")
    response = client.post("/flags/acknowledge", data=ack_data(site, day, early, "fever:1:gone"),
                           follow_redirects=True)
    assert "no longer raised" in response.get_data(as_text=True) and count(FlagAck) == 0
    assert client.post("/flags/acknowledge", data={"key": "x"}).status_code == 400


def test_viewer_cannot_acknowledge(signed_in, two_doses) -> None:
    site, day, _early, _late = two_doses
    appointment, key = critical_key(site, day)
    client = signed_in("viewer")
    page = client.get(worklist_url(site, day)).get_data(as_text=True)
    assert ">Acknowledge</button>" not in page and "not yet" in page
    assert client.post("/flags/acknowledge", data=ack_data(site, day, appointment, key)).status_code == 403
    assert count(FlagAck) == 0


@contextmanager
def rendered_contexts(app) -> Iterator[list[dict[str, Any]]]:
    """Record the context of every template rendered inside the block."""
    seen: list[dict[str, Any]] = []

    def record(sender, template, context, **extra) -> None:
        seen.append(context)

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


def test_nav_count_is_todays_open_critical_and_warning(app, signed_in, clinic, users) -> None:
    protocol = current_protocol("natalizumab-ms")
    today = datetime.now(BERLIN).date()
    appointment = make_appointment(clinic, datetime.combine(today, time(12)), protocol_id=protocol.id)
    client = signed_in("viewer")
    with rendered_contexts(app) as contexts:
        client.get("/patients/")
    assert contexts[-1]["open_flag_count"] == 3  # CBC missing, JCV missing, first infusion
    flag = next(r.flag for r in day_worklist(clinic, today, today) if r.flag.severity == "warning")
    acknowledge(flag, users["nurse"])
    with rendered_contexts(app) as contexts:
        client.get("/flags/")
    assert contexts[-1]["open_flag_count"] == 2
    assert appointment.id in {r.appointment.id for r in contexts[-1]["rows"]}


def test_nav_count_without_a_site_or_a_user(app, client, users) -> None:
    with rendered_contexts(app) as contexts:
        client.get("/login")
    assert contexts[-1]["open_flag_count"] == 0


def count_queries(app, run) -> int:
    """Return how many SQL statements ``run()`` sends."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_worklist_and_patient_page_use_a_fixed_number_of_queries(app, signed_in, clinic, users) -> None:
    day = next_monday()
    client = signed_in("nurse")
    first = make_patient()
    book(clinic, users, first, day, time(9))
    few = count_queries(app, lambda: client.get(worklist_url(clinic, day)))
    patient_few = count_queries(app, lambda: client.get(f"/patients/{first.id}"))
    for hour in (10, 11, 12):
        book(clinic, users, make_patient(), day, time(hour))
        book(clinic, users, first, day + timedelta(days=28 * (hour - 9)), time(hour))
    assert count_queries(app, lambda: client.get(worklist_url(clinic, day))) == few
    assert count_queries(app, lambda: client.get(f"/patients/{first.id}")) == patient_few


# -- reactions and rechallenge on the patient page ------------------------------


@pytest.fixture
def severe_reaction(clinic, users) -> tuple[Patient, Appointment]:
    """A natalizumab dose given 8 weeks ago with a grade 3 reaction, and the next dose booked."""
    patient = make_patient(family_name="Reactor")
    protocol = current_protocol("natalizumab-ms")
    given_on = next_monday() - timedelta(days=56)
    start = datetime.combine(given_on, time(9), BERLIN)
    past = make_appointment(clinic, start, patient=patient, protocol_id=protocol.id, status="completed",
                            actual_start_at=start)
    record_observation(past, {"phase": "post", "reaction_grade": 3}, users["nurse"], datetime.now(UTC))
    book(clinic, users, patient, next_monday(), time(9))
    return patient, past


def test_patient_page_shows_reactions_and_flags(signed_in, severe_reaction, users) -> None:
    patient, past = severe_reaction
    nurse_page = signed_in("nurse").get(f"/patients/{patient.id}").get_data(as_text=True)
    assert 'id="reactions"' in nurse_page and "Grade 3 (severe)" in nurse_page and "natalizumab" in nurse_page
    assert "do_not_rechallenge" in nurse_page and "Do not rechallenge" in nurse_page
    assert "Clear rechallenge" not in nurse_page and "Not acknowledged" in nurse_page


def test_admin_clears_a_rechallenge(signed_in, severe_reaction, users) -> None:
    patient, past = severe_reaction
    client = signed_in("admin")
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Clear rechallenge" in page and "do_not_rechallenge" in page
    url = f"/flags/rechallenge/{past.id}"
    refused = client.post(url, data={"note": "  "}, follow_redirects=True).get_data(as_text=True)
    assert "Rechallenge not cleared: Write who cleared" in refused and count(FlagAck) == 0
    response = client.post(url, data={"note": "Dr Keller: premedicate, half rate"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/patients/{patient.id}#reactions")
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "do_not_rechallenge" not in page and "prior_reaction" in page and "rechallenge cleared" in page
    assert "Cleared by admin1" in page and "Dr Keller: premedicate, half rate" in page
    assert "Clear rechallenge</button>" not in page
    again = client.post(url, data={"note": "twice"})
    assert again.status_code == 302 and count(FlagAck) == 1


@pytest.mark.parametrize("role", ["nurse", "scheduler", "viewer"])
def test_only_admins_clear_rechallenges(signed_in, severe_reaction, role: str) -> None:
    _patient, past = severe_reaction
    assert signed_in(role).post(f"/flags/rechallenge/{past.id}", data={"note": "ok"}).status_code == 403
    assert count(FlagAck) == 0


def test_mild_reaction_needs_no_clearance(signed_in, clinic, users) -> None:
    patient = make_patient()
    start = datetime.combine(next_monday() - timedelta(days=28), time(9), BERLIN)
    past = make_appointment(clinic, start, patient=patient, status="completed",
                            protocol_id=current_protocol("natalizumab-ms").id)
    record_observation(past, {"phase": "post", "reaction_grade": 1}, users["nurse"], datetime.now(UTC))
    client = signed_in("admin")
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Grade 1 (mild)" in page and "Clear rechallenge</button>" not in page
    response = client.post(f"/flags/rechallenge/{past.id}", data={"note": "x"}, follow_redirects=True)
    assert "Only a grade 3 or worse reaction" in response.get_data(as_text=True) and count(FlagAck) == 0
    assert client.post("/flags/rechallenge/999999", data={"note": "x"}).status_code == 404


def test_patient_page_shows_who_acknowledged(signed_in, two_doses, users) -> None:
    site, day, early, _late = two_doses
    acknowledge(day_worklist(site, day, day)[0].flag, users["nurse"])
    page = signed_in("viewer").get(f"/patients/{early.patient_id}").get_data(as_text=True)
    assert 'id="flags"' in page and "Acknowledged by nurse1" in page and "Not acknowledged" in page
    assert "‼" in page and "Critical" in page
