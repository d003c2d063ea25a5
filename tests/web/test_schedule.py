"""The day schedule: grid, load strip, totals, print view and GET /api/v1/schedule."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from itertools import count
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, render_template

from clinic.api.schedule import schedule_json
from clinic.auth.services import issue_token
from clinic.domain.monitoring import Flag
from clinic.extensions import db
from clinic.protocols.models import Protocol
from clinic.scheduling.dayview import day_view
from clinic.scheduling.models import Chair, Closure, Site
from clinic.scheduling.views import LABELS
from tests.conftest import RequestScopedClient, make_app, sign_in
from tests.factories import make_appointment, make_patient, make_site

WINTER = date(2027, 1, 12)  # a Tuesday, CET (+01:00)
SUMMER = date(2027, 7, 13)  # a Tuesday, CEST (+02:00)
_serial = count(1)


def make_protocol(drug: str = "Testumab") -> Protocol:
    n = next(_serial)
    protocol = Protocol(
        code=f"testumab-{n}", version=1, name=f"{drug} test protocol", drug=drug, disease="Testing",
        indication="", definition={}, checksum=f"{n:064d}",
    )
    db.session.add(protocol)
    db.session.flush()
    return protocol


def chairs_of(site: Site) -> list[Chair]:
    return list(db.session.scalars(sa.select(Chair).where(Chair.site_id == site.id).order_by(Chair.position)))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a naive local wall time (the factory reads it in the site's zone)."""
    return datetime.combine(day, time(hour, minute))


def block_classes(page: str, appointment_id: int) -> str:
    """Return the class attribute of the block linking to an appointment."""
    match = re.search(rf'<a class="(block [^"]+)"\s+href="/appointments/{appointment_id}"', page)
    assert match, f"no block for appointment {appointment_id}"
    return match.group(1)


@pytest.fixture
def api(client, users):
    def call(url: str, role: str = "viewer") -> Any:
        token = issue_token(users[role])
        return client.get(url, headers={"Authorization": f"Bearer {token}"})

    return call


@contextmanager
def statements() -> Iterator[list[str]]:
    """Collect every SQL statement sent while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_grid_places_blocks_in_slot_columns(signed_in) -> None:
    site = make_site(chairs=2, beds=1)
    chair1, chair2, bed = chairs_of(site)
    patient = make_patient(family_name="Schneider", given_name="Elif", mrn="RIC-4711")
    on_slot = make_appointment(
        site, at(WINTER, 9), chair=chair1, patient=patient, infusion_minutes=60, observation_minutes=30,
        protocol_id=make_protocol("Natalizumab").id, dose_number=3, phase="maintenance",
    )
    off_slot = make_appointment(site, at(WINTER, 10, 10), chair=bed, infusion_minutes=50, observation_minutes=0)
    page = signed_in("viewer").get(f"/schedule/?site_id={site.id}&date={WINTER}").get_data(as_text=True)
    # 08:00 opens in column 2; 09:00 is slot 4 -> column 6; 90 min = 6 slots; the tail starts at 10:00.
    assert block_classes(page, on_slot.id) == "block status-scheduled c-6 s-6 r-1"
    assert '<span class="tail c-10 s-2 r-1" aria-hidden="true"><span>obs 30 min</span></span>' in page
    # 10:10-11:00 rounds outward to the 10:00 slot (column 10) and spans 4 slots; no tail without observation.
    assert block_classes(page, off_slot.id) == "block status-scheduled c-10 s-4 r-1"
    for text in ("Schneider, Elif", "RIC-4711", "Natalizumab 300 mg", "dose 3 maintenance", "09:00–10:30", "scheduled"):
        assert text in page
    assert "Chair 2" in page and "Bed 1" in page and ">bed<" in page
    assert page.count('class="tick ') == 10  # 08:00 .. 17:00


def test_statuses_are_written_and_inactive_ones_struck(signed_in) -> None:
    site = make_site(chairs=1, beds=0)
    cancelled = make_appointment(site, at(WINTER, 9), status="cancelled")
    rebooked = make_appointment(site, at(WINTER, 9), status="in_chair")
    page = signed_in("nurse").get(f"/schedule/?site_id={site.id}&date={WINTER}").get_data(as_text=True)
    assert block_classes(page, rebooked.id).endswith("r-1")  # the active one keeps the first row
    assert block_classes(page, cancelled.id) == "block status-cancelled c-6 s-6 r-2"
    assert '✕</span> <span class="status-words">cancelled</span>' in page
    assert '●</span> <span class="status-words">in chair</span>' in page


def test_cancelled_and_no_show_are_not_counted(session) -> None:
    site = make_site(chairs=3, beds=0)
    first, second, third = chairs_of(site)
    make_appointment(site, at(WINTER, 9), chair=first)
    make_appointment(site, at(WINTER, 9), chair=second, status="cancelled")
    make_appointment(site, at(WINTER, 9), chair=third, status="no_show")
    view = day_view(site, WINTER, datetime(2027, 1, 1, tzinfo=UTC))
    nine = view.load[4]
    assert (nine.starts, nine.in_chair) == (1, 1)
    assert view.totals.appointments == 1 and view.totals.not_counted == 2
    assert view.totals.booked_minutes == 90


def test_load_strip_for_a_known_arrangement(signed_in, api) -> None:
    site = make_site(chairs=2, beds=0, max_starts_per_slot=2)
    first, second = chairs_of(site)
    make_appointment(site, at(WINTER, 9), chair=first, infusion_minutes=60, observation_minutes=30)  # 09:00-10:30
    make_appointment(site, at(WINTER, 9), chair=second, infusion_minutes=30, observation_minutes=0)  # 09:00-09:30
    make_appointment(site, at(WINTER, 9, 45), chair=second, infusion_minutes=60, observation_minutes=0)  # -10:45
    load = api(f"/api/v1/schedule?site_id={site.id}&date={WINTER}").get_json()["load"]
    by_time = {slot["slot_start"][11:16]: (slot["starts"], slot["in_chair"]) for slot in load}
    assert by_time["08:45"] == (0, 0)
    assert by_time["09:00"] == (2, 2)
    assert by_time["09:15"] == (0, 2)
    assert by_time["09:30"] == (0, 1)
    assert by_time["09:45"] == (1, 2)
    assert by_time["10:15"] == (0, 2)
    assert by_time["10:30"] == (0, 1)
    assert by_time["10:45"] == (0, 0)
    page = signed_in("viewer").get(f"/schedule/?site_id={site.id}&date={WINTER}").get_data(as_text=True)
    assert "09:00: 2 of 2 infusion starts, at capacity" in page
    assert "09:15: 2 of 2 chairs taken, at capacity" in page
    assert "09:30: 1 of 2 chairs taken" in page and "09:30: 1 of 2 chairs taken," not in page
    # starts full in one slot, chairs full in 09:00, 09:15, 09:45 .. 10:15
    assert page.count("<span class=\"visually-hidden\"> at capacity</span>") == 1 + 2 + 3


def test_day_summary_shows_utilisation(signed_in) -> None:
    site = make_site(chairs=4, beds=1)  # 5 chairs x 10 h = 50 open chair-hours
    first, second, *_ = chairs_of(site)
    make_appointment(site, at(WINTER, 8, 30), chair=first, infusion_minutes=120, observation_minutes=30)
    make_appointment(site, at(WINTER, 13), chair=second, infusion_minutes=120, observation_minutes=30)
    page = signed_in("viewer").get(f"/schedule/?site_id={site.id}&date={WINTER}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", page)
    assert "5 booked / 50 open · 10 % used" in text
    assert "First start08:30" in text and "Last start13:00" in text


def test_now_line_only_on_today(session) -> None:
    site = make_site()
    now = datetime(2027, 1, 12, 9, 36, tzinfo=UTC)  # 10:36 in Berlin: slot 10:30 (index 10), 0.4 into it
    today = day_view(site, WINTER, now)
    assert today.now is not None and (today.now.column, today.now.tenth, today.now.visible) == (12, 4, True)
    assert day_view(site, date(2027, 1, 13), now).now is None
    evening = day_view(site, WINTER, datetime(2027, 1, 12, 19, tzinfo=UTC))
    assert evening.now is not None and not evening.now.visible


@pytest.mark.parametrize(
    "day,reason",
    [(date(2027, 1, 16), "no opening hours on Saturdays"), (WINTER, "Staff training")],
)
def test_closed_day_shows_a_banner_instead_of_the_grid(signed_in, day: date, reason: str) -> None:
    site = make_site()
    db.session.add(Closure(site_id=site.id, day=WINTER, reason="Staff training"))
    booked = make_appointment(site, at(day, 9))
    page = signed_in("viewer").get(f"/schedule/?site_id={site.id}&date={day}").get_data(as_text=True)
    assert f"<strong>Closed:</strong> {reason}" in page
    assert 'class="timeline"' not in page
    assert "Still booked on this closed day (1)" in page and f'href="/appointments/{booked.id}"' in page


@pytest.mark.parametrize(
    "query,status",
    [
        ("date=12/01/2027", 400),
        ("date=2027-13-01", 400),
        ("date=2027-W02-2", 400),
        ("date=0001-01-01", 400),
        ("date=9999-12-31", 400),
        ("site_id=abc", 400),
        ("site_id=-1", 400),
        ("site_id=99999999999999999999", 400),
        ("site_id=999999", 404),
    ],
)
def test_bad_requests_are_400_or_404_never_500(signed_in, query: str, status: int) -> None:
    make_site()
    client = signed_in("viewer")
    assert client.get(f"/schedule/?{query}").status_code == status
    assert client.get(f"/schedule/print?{query}").status_code == status


@pytest.mark.parametrize(
    "query,status,field",
    [
        ("date=12/01/2027", 422, "date"),
        ("date=2027-02-30", 422, "date"),
        ("site_id=abc", 422, "site_id"),
        ("site_id=1.5", 422, "site_id"),
        ("site_id=999999", 404, None),
    ],
)
def test_api_bad_requests(api, query: str, status: int, field: str | None) -> None:
    make_site()
    response = api(f"/api/v1/schedule?{query}")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == ("invalid" if status == 422 else "not_found") and error["message"]
    assert list(error["fields"]) == ([field] if field else [])


def test_api_needs_a_token(client) -> None:
    make_site()
    assert client.get("/api/v1/schedule").status_code == 401


@pytest.mark.parametrize("day,offset", [(WINTER, "+01:00"), (SUMMER, "+02:00")])
def test_api_shape_with_local_offsets(api, day: date, offset: str) -> None:
    site = make_site(chairs=1, beds=1)
    chair, bed = chairs_of(site)
    patient = make_patient(family_name="Vogel", given_name="Lena", mrn="API-77")
    protocol = make_protocol()
    booked = make_appointment(
        site, at(day, 9), chair=bed, patient=patient, protocol_id=protocol.id, dose_amount=1000.0, dose_unit="mg",
        infusion_minutes=240, observation_minutes=60,
    )
    body = api(f"/api/v1/schedule?site_id={site.id}&date={day}").get_json()
    assert set(body) == {"date", "site", "chairs", "load"}
    assert body["date"] == day.isoformat()
    assert body["site"] == {"id": site.id, "name": site.name, "timezone": "Europe/Berlin"}
    assert [(c["id"], c["label"], c["kind"]) for c in body["chairs"]] == [
        (chair.id, "Chair 1", "chair"), (bed.id, "Bed 1", "bed"),
    ]
    assert body["chairs"][0]["appointments"] == []
    flags = body["chairs"][1]["appointments"][0].pop("flags")
    assert [(f["code"], f["severity"]) for f in flags] == [("first_infusion", "warning"), ("observation_required", "info")]
    assert all(set(f) >= {"kind", "severity", "code", "message", "patient_id", "appointment_id"} for f in flags)
    assert body["chairs"][1]["appointments"] == [
        {
            "id": booked.id,
            "patient": {"id": patient.id, "name": "Vogel, Lena", "mrn": "API-77"},
            "start": f"{day}T09:00:00{offset}",
            "end": f"{day}T14:00:00{offset}",
            "protocol_code": protocol.code,
            "dose": {"amount": 1000.0, "unit": "mg"},
            "status": "scheduled",
        }
    ]
    assert len(body["load"]) == 40
    assert body["load"][0] == {"slot_start": f"{day}T08:00:00{offset}", "starts": 0, "in_chair": 0}
    assert body["load"][4] == {"slot_start": f"{day}T09:00:00{offset}", "starts": 1, "in_chair": 1}


def test_api_defaults_to_the_first_site_and_lists_closed_days_without_load(api) -> None:
    first = make_site()
    make_site()
    body = api(f"/api/v1/schedule?date={date(2027, 1, 16)}").get_json()
    assert body["site"]["id"] == first.id and body["load"] == [] and len(body["chairs"]) == 5


def test_inactive_chair_stays_visible_while_it_holds_an_appointment(api) -> None:
    site = make_site(chairs=2, beds=0)
    first, second = chairs_of(site)
    second.active = False
    db.session.flush()
    assert [c["label"] for c in api(f"/api/v1/schedule?site_id={site.id}&date={WINTER}").get_json()["chairs"]] == [
        "Chair 1"
    ]
    make_appointment(site, at(WINTER, 9), chair=second)
    body = api(f"/api/v1/schedule?site_id={site.id}&date={WINTER}").get_json()
    assert [c["label"] for c in body["chairs"]] == ["Chair 1", "Chair 2"]


def test_print_view_is_a_table_without_navigation(signed_in) -> None:
    site = make_site(chairs=2, beds=0)
    first, _second = chairs_of(site)
    patient = make_patient(family_name="Lorenz", given_name="Ida", mrn="PR-1")
    make_appointment(site, at(WINTER, 9), chair=first, patient=patient, protocol_id=make_protocol("Rituximab").id)
    make_appointment(site, at(WINTER, 12), chair=first, status="no_show")
    client = signed_in("viewer")
    day_page = client.get(f"/schedule/?site_id={site.id}&date={WINTER}").get_data(as_text=True)
    assert f'href="/schedule/print?site_id={site.id}&amp;date={WINTER}"' in day_page
    page = client.get(f"/schedule/print?site_id={site.id}&date={WINTER}").get_data(as_text=True)
    assert "<nav" not in page and 'class="topbar"' not in page
    for text in ("Lorenz, Ida", "PR-1", "Rituximab", "300 mg", "09:00–10:30", "SCHEDULED", "NO-SHOW", "Free all day: Chair 2"):
        assert text in page
    assert '<tr class="struck">' in page


@pytest.mark.parametrize("role,links", [("scheduler", True), ("viewer", False)])
def test_empty_slots_link_to_single_booking_for_bookers(signed_in, role: str, links: bool) -> None:
    site = make_site(chairs=1, beds=0)
    day = date(2999, 1, 7)  # a Monday far ahead: every slot lies in the future
    make_appointment(site, at(day, 8), infusion_minutes=45, observation_minutes=0)  # + 15 min turnover
    page = signed_in(role).get(f"/schedule/?site_id={site.id}&date={day}").get_data(as_text=True)
    free_links = re.findall(r'href="/book/single\?chair_id=\d+&amp;start=([^"]+)"', page)
    assert len(free_links) == (40 - 4 if links else 0)  # 08:00-09:00 is taken (45 min + turnover)
    if links:
        assert free_links[0] == "2999-01-07T09:00:00%2B01:00"


@pytest.mark.parametrize("url", ["/schedule/?site_id={id}&date={day}", "/schedule/print?site_id={id}&date={day}",
                                 "/api/v1/schedule?site_id={id}&date={day}"])
def test_query_count_does_not_grow_with_the_day(signed_in, users, url: str) -> None:
    client = signed_in("scheduler")
    token = issue_token(users["scheduler"])
    counts = []
    for appointments in (3, 30):
        site = make_site(chairs=10, beds=0)
        protocols = [make_protocol(), make_protocol()]
        chairs = chairs_of(site)
        for n in range(appointments):
            make_appointment(site, at(WINTER, 8 + 3 * (n // 10)), chair=chairs[n % 10], protocol_id=protocols[n % 2].id)
        with statements() as seen:
            response = client.get(url.format(id=site.id, day=WINTER), headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        if url.startswith("/schedule/?"):
            assert response.get_data(as_text=True).count('<a class="block ') == appointments
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20, counts  # user, site, hours, closure, appointments, chairs, nav count, flag facts (5)


def test_flags_show_as_symbol_and_text_on_page_print_and_api(app: Flask, session) -> None:
    site = make_site(chairs=1, beds=0)
    booked = make_appointment(site, at(WINTER, 9))
    as_dict = {"kind": "reaction", "severity": "critical", "code": "prior_reaction",
               "message": "Grade 3 reaction last time", "patient_id": booked.patient_id, "appointment_id": booked.id}
    as_object = Flag(kind="infection", severity="warning", code="fever", message="Fever reported",
                     patient_id=booked.patient_id, appointment_id=booked.id)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    view = day_view(site, WINTER, now, {booked.id: [as_dict, as_object]})
    with app.test_request_context("/schedule/"):
        page = render_template("scheduling/day.html", view=view, site=site, sites=[site], book_endpoint=None,
                               now=now, **LABELS)
        printed = render_template("scheduling/print.html", view=view, site=site, now=now, **LABELS)
    assert ('<span aria-hidden="true">‼</span><span class="visually-hidden">critical:</span> '
            "Grade 3 reaction last time") in page
    assert '<span aria-hidden="true">⚠</span><span class="visually-hidden">warning:</span> Fever reported' in page
    assert "CRITICAL: Grade 3 reaction last time" in printed and "WARNING: Fever reported" in printed
    flags = schedule_json(view)["chairs"][0]["appointments"][0]["flags"]
    assert flags[0] == as_dict
    assert {key: flags[1][key] for key in as_dict} == {**as_dict, "kind": "infection", "severity": "warning",
                                                      "code": "fever", "message": "Fever reported"}
