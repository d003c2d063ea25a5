"""A closure added after booking: rebook what it hits inside each window."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.extensions import db
from clinic.protocols.services import sync_catalog
from clinic.scheduling.booking import SeriesRequest, book_series
from clinic.scheduling.closures import apply_closure_rebook, plan_closure_rebook
from clinic.scheduling.models import Appointment, Closure
from tests.factories import make_patient, make_site

BERLIN = ZoneInfo("Europe/Berlin")


def test_closure_rebooks_inside_windows_and_holds_the_rest(session, users) -> None:
    sync_catalog()
    site = make_site(chairs=2, beds=0)
    scheduler = users["scheduler"]
    booked = []
    for _ in range(2):
        series, plan = book_series(
            SeriesRequest(patient_id=make_patient().id, protocol_code="natalizumab-ms",
                          start_date=date(2027, 1, 4), site_id=site.id, preferred_time=time(9), doses=2),
            scheduler,
        )
        booked += plan.appointments
    closed = date(2027, 2, 1)
    hit = [a for a in booked if a.start_at.astimezone(BERLIN).date() == closed]
    assert len(hit) == 2
    db.session.add(Closure(site_id=site.id, day=closed, reason="Water damage"))
    db.session.flush()
    plan = plan_closure_rebook(site, closed, today=date(2027, 1, 20))
    assert len(plan.moves) == 2 and plan.unplaced == []
    apply_closure_rebook(plan, scheduler)
    for row in hit:
        day = row.start_at.astimezone(BERLIN).date()
        assert day != closed and row.earliest <= day <= row.latest
        assert row.status == "scheduled" and "rebooked" in row.reason


def test_what_cannot_be_rebooked_is_held_with_the_reason(session, users) -> None:
    sync_catalog()
    site = make_site(chairs=1, beds=0)
    patient = make_patient()
    start = datetime(2027, 3, 10, 9, 0, tzinfo=BERLIN)
    row = Appointment(patient_id=patient.id, site_id=site.id, chair_id=site.chairs[0].id, start_at=start,
                      end_at=start.replace(hour=10), chair_free_at=start.replace(hour=10, minute=15),
                      infusion_minutes=60, target_date=date(2027, 3, 10), earliest=date(2027, 3, 10),
                      latest=date(2027, 3, 10))
    db.session.add(row)
    db.session.add(Closure(site_id=site.id, day=date(2027, 3, 10), reason="Strike"))
    db.session.flush()
    plan = plan_closure_rebook(site, date(2027, 3, 10), today=date(2027, 3, 1))
    assert plan.moves == [] and len(plan.unplaced) == 1
    apply_closure_rebook(plan, users["scheduler"])
    assert row.status == "held" and "could not rebook" in row.reason
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1
