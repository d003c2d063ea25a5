"""Admin pages: site settings, chairs, closures, holidays; /api/v1/sites."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.admin.services import appointments_on_closures
from clinic.auth.services import issue_token
from clinic.extensions import db
from clinic.scheduling.models import Appointment, Chair, Closure, OpeningHours, Site
from tests.conftest import count
from tests.factories import make_patient, make_site

BERLIN = ZoneInfo("Europe/Berlin")
FUTURE_DAY = date(2090, 1, 9)  # a Monday, far from any real "today"
PAST_DAY = date(2020, 1, 6)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def site(session) -> Site:
    return make_site(chairs=3, beds=1, holiday_country="DE", holiday_subdivision="BE")


@pytest.fixture
def admin(signed_in):
    return signed_in("admin")


def make_appointment(site: Site, chair: Chair, day: date, at: time = time(9), status: str = "scheduled") -> Appointment:
    start = datetime.combine(day, at, ZoneInfo(site.timezone)).astimezone(UTC)
    appointment = Appointment(
        patient_id=make_patient().id, site_id=site.id, chair_id=chair.id, status=status,
        start_at=start, end_at=start + timedelta(hours=2), chair_free_at=start + timedelta(hours=2, minutes=15),
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment


def site_payload(**changes: Any) -> dict[str, str]:
    """Return a valid site form post: Mon-Fri 08:00-18:00 plus ``changes``."""
    data = {
        "name": "Northside Infusions", "timezone": "Europe/Berlin", "slot_minutes": "15",
        "turnover_minutes": "15", "max_starts_per_slot": "3",
        "holiday_country": "DE", "holiday_subdivision": "BE",
    }
    for name in WEEKDAYS[:5]:
        data.update({f"{name}-open": "y", f"{name}-opens": "08:00", f"{name}-closes": "18:00"})
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def page_urls(site: Site) -> list[str]:
    chair = site.chairs[0]
    return [
        "/admin/",
        "/admin/sites/new",
        f"/admin/sites/{site.id}/edit",
        f"/admin/sites/{site.id}/chairs",
        f"/admin/chairs/{chair.id}/edit",
        f"/admin/sites/{site.id}/closures",
    ]


# --- access -----------------------------------------------------------------


def test_every_page_renders_for_admin(admin, site) -> None:
    for url in page_urls(site):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert "<h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["scheduler", "nurse", "viewer"])
def test_other_roles_get_403_and_write_nothing(signed_in, site, role) -> None:
    client = signed_in(role)
    for url in page_urls(site):
        assert client.get(url).status_code == 403, url
    chair = site.chairs[0]
    posts = {
        "/admin/sites/new": site_payload(),
        f"/admin/sites/{site.id}/edit": site_payload(name=site.name),
        f"/admin/sites/{site.id}/chairs": {"label": "Chair 9", "kind": "chair"},
        f"/admin/chairs/{chair.id}/deactivate": {},
        f"/admin/chairs/{chair.id}/move": {"direction": "down"},
        f"/admin/sites/{site.id}/closures": {"day": "2090-01-09", "reason": "Works"},
        f"/admin/sites/{site.id}/closures/holidays": {},
    }
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 403, url
    assert count(Site) == 1 and count(Chair) == 4 and count(Closure) == 0
    db.session.refresh(chair)
    assert chair.active and chair.position == 0


@pytest.mark.parametrize("role,shown", [("admin", True), ("scheduler", False), ("viewer", False)])
def test_admin_link_only_for_admins(signed_in, site, role, shown) -> None:
    assert ('href="/admin/"' in signed_in(role).get("/").get_data(as_text=True)) is shown


def test_index_lists_sites_with_chair_counts(admin, site) -> None:
    site.chairs[0].active = False
    db.session.flush()
    page = admin.get("/admin/").get_data(as_text=True)
    assert site.name in page and "3 active" in page and "1 inactive" in page
    assert f"/admin/sites/{site.id}/chairs" in page and "/admin/sites/new" in page


# --- site settings ----------------------------------------------------------


def test_create_site(admin, session) -> None:
    response = admin.post("/admin/sites/new", data=site_payload(**{"sat-open": "y", "sat-opens": "09:00",
                                                                    "sat-closes": "13:00"}))
    assert response.status_code == 302
    created = session.scalar(sa.select(Site).where(Site.name == "Northside Infusions"))
    assert created.max_starts_per_slot == 3 and created.holiday_subdivision == "BE"
    assert [(h.weekday, h.opens_at, h.closes_at) for h in created.hours][-1] == (5, time(9), time(13))
    assert len(created.hours) == 6
    assert "Site Northside Infusions created" in admin.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "is not a time zone we know"),
        ({"timezone": "Europe"}, "timezone", "is not a time zone we know"),
        ({"mon-closes": "07:00"}, "mon-closes", "Closing time must be after the opening time."),
        ({"tue-opens": ""}, "tue-opens", "Enter when it opens"),
        ({"slot_minutes": "7"}, "slot_minutes", "Choose 5, 10, 15, 20, 30 or 60 minutes."),
        ({"turnover_minutes": "200"}, "turnover_minutes", "Turnover must be 0–120 minutes."),
        ({"max_starts_per_slot": "0"}, "max_starts_per_slot", "Max starts per slot must be 1–50."),
        ({"max_starts_per_slot": "51"}, "max_starts_per_slot", "Max starts per slot must be 1–50."),
        ({"holiday_country": "XX"}, "holiday_country", "is not a supported country"),
        ({"holiday_subdivision": "ZZ"}, "holiday_subdivision", "DE has no subdivision"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_create_site_refuses_bad_values(admin, session, changes, field, message) -> None:
    response = admin.post("/admin/sites/new", data=site_payload(**changes))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in page and message in page
    assert 'value="Northside Infusions"' in page or field == "name"  # the input is kept
    assert count(Site) == 0 and count(OpeningHours) == 0


def test_closed_day_ignores_its_times(admin, session) -> None:
    response = admin.post("/admin/sites/new", data=site_payload(**{"sun-opens": "nonsense", "sun-closes": ""}))
    assert response.status_code == 302
    assert count(OpeningHours) == 5


def test_duplicate_site_name_is_a_field_error(admin, site) -> None:
    response = admin.post("/admin/sites/new", data=site_payload(name=site.name.upper()))
    assert response.status_code == 200
    assert "Another site is already called" in response.get_data(as_text=True)
    assert count(Site) == 1


def test_edit_site_saves_settings_and_hours(admin, site, session) -> None:
    payload = site_payload(name=site.name, max_starts_per_slot="4", timezone="europe/berlin",
                           holiday_subdivision="by", **{"fri-open": None, "sat-open": "y",
                                                         "sat-opens": "09:00", "sat-closes": "12:30"})
    response = admin.post(f"/admin/sites/{site.id}/edit", data=payload, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "max infusion starts per slot" in page and "opening hours" in page
    session.expire_all()
    assert site.max_starts_per_slot == 4 and site.timezone == "Europe/Berlin"
    assert site.holiday_subdivision == "BY"
    assert {h.weekday: (h.opens_at, h.closes_at) for h in site.hours} == {
        0: (time(8), time(18)), 1: (time(8), time(18)), 2: (time(8), time(18)), 3: (time(8), time(18)),
        5: (time(9), time(12, 30)),
    }
    again = admin.post(f"/admin/sites/{site.id}/edit", data=payload, follow_redirects=True)
    assert "Nothing changed." in again.get_data(as_text=True)


def test_edit_page_shows_current_values(admin, site) -> None:
    page = admin.get(f"/admin/sites/{site.id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="mon-opens"[^>]*type="time" value="08:00"', page)
    assert re.search(r'<input[^>]*name="max_starts_per_slot"[^>]*value="2"', page)
    assert re.search(r'<input[^>]*checked[^>]*name="fri-open"', page)
    assert not re.search(r'<input[^>]*checked[^>]*name="sat-open"', page)
    assert "Nurse start capacity" in page


@pytest.mark.parametrize(
    "changes",
    [{"timezone": "Nowhere/City"}, {"wed-closes": "08:00"}, {"slot_minutes": "7"}, {"turnover_minutes": "-1"},
     {"max_starts_per_slot": "0"}, {"holiday_country": "QQ"}],
)
def test_edit_site_with_a_bad_value_writes_nothing(admin, site, session, changes) -> None:
    response = admin.post(f"/admin/sites/{site.id}/edit",
                          data=site_payload(**{"name": site.name, "max_starts_per_slot": "9", **changes}))
    assert response.status_code == 200 and "Nothing was saved" in response.get_data(as_text=True)
    session.expire_all()
    assert site.max_starts_per_slot == 2 and site.timezone == "Europe/Berlin" and site.slot_minutes == 15
    assert len(site.hours) == 5


# --- chairs -----------------------------------------------------------------


def test_add_chair_and_duplicate_label(admin, site, session) -> None:
    response = admin.post(f"/admin/sites/{site.id}/chairs", data={"label": "Bed 2", "kind": "bed"},
                          follow_redirects=True)
    assert "Bed Bed 2 added" in response.get_data(as_text=True)
    added = session.scalar(sa.select(Chair).where(Chair.label == "Bed 2"))
    assert added.kind == "bed" and added.position == 4
    duplicate = admin.post(f"/admin/sites/{site.id}/chairs", data={"label": "chair 1", "kind": "chair"})
    assert duplicate.status_code == 200
    page = duplicate.get_data(as_text=True)
    assert 'id="label-errors"' in page and "already has a chair labelled chair 1" in page
    assert count(Chair) == 5


def test_rename_and_change_kind(admin, site, session) -> None:
    chair = site.chairs[0]
    response = admin.post(f"/admin/chairs/{chair.id}/edit", data={"label": "Window 1", "kind": "bed"})
    assert response.status_code == 302
    session.expire_all()
    assert (chair.label, chair.kind) == ("Window 1", "bed")
    clash = admin.post(f"/admin/chairs/{chair.id}/edit", data={"label": "Chair 2", "kind": "bed"})
    assert clash.status_code == 200 and "already has a chair labelled Chair 2" in clash.get_data(as_text=True)
    empty = admin.post(f"/admin/chairs/{chair.id}/edit", data={"label": " ", "kind": "sofa"})
    assert 'id="label-errors"' in empty.get_data(as_text=True) and 'id="kind-errors"' in empty.get_data(as_text=True)
    session.expire_all()
    assert chair.label == "Window 1"


def test_deactivate_refused_with_future_appointments(admin, site, session) -> None:
    chair = site.chairs[1]
    make_appointment(site, chair, FUTURE_DAY)
    make_appointment(site, chair, FUTURE_DAY + timedelta(days=7))
    response = admin.post(f"/admin/chairs/{chair.id}/deactivate", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "2 upcoming appointments" in page
    assert "Mon 9 Jan 2090" in page and "Mon 16 Jan 2090" in page and "Move them to another chair first" in page
    session.expire_all()
    assert chair.active


def test_deactivate_allowed_without_future_appointments(admin, site, session) -> None:
    chair = site.chairs[1]
    make_appointment(site, chair, PAST_DAY)
    make_appointment(site, chair, FUTURE_DAY, status="cancelled")
    response = admin.post(f"/admin/chairs/{chair.id}/deactivate", follow_redirects=True)
    assert "Chair 2 deactivated" in response.get_data(as_text=True)
    session.expire_all()
    assert not chair.active and count(Appointment) == 2
    response = admin.post(f"/admin/chairs/{chair.id}/reactivate", follow_redirects=True)
    assert "Chair 2 is active again" in response.get_data(as_text=True)
    session.expire_all()
    assert chair.active


def test_reorder_chairs(admin, site, session) -> None:
    def labels() -> list[str]:
        return list(session.scalars(sa.select(Chair.label).where(Chair.site_id == site.id).order_by(Chair.position)))

    third = site.chairs[2]
    assert admin.post(f"/admin/chairs/{third.id}/move", data={"direction": "up"}).status_code == 302
    session.expire_all()
    assert labels() == ["Chair 1", "Chair 3", "Chair 2", "Bed 1"]
    top = site.chairs[0]
    response = admin.post(f"/admin/chairs/{top.id}/move", data={"direction": "up"}, follow_redirects=True)
    assert "already at the top" in response.get_data(as_text=True)
    assert admin.post(f"/admin/chairs/{top.id}/move", data={"direction": "sideways"}).status_code == 400


# --- closures ---------------------------------------------------------------


def test_add_duplicate_and_remove_closure(admin, site, session) -> None:
    url = f"/admin/sites/{site.id}/closures"
    response = admin.post(url, data={"day": "2090-01-09", "reason": "Staff training"}, follow_redirects=True)
    assert "is closed on Mon 9 Jan 2090 (Staff training)" in response.get_data(as_text=True)
    closure = session.scalar(sa.select(Closure))
    assert (closure.day, closure.source) == (FUTURE_DAY, "manual")
    duplicate = admin.post(url, data={"day": "2090-01-09", "reason": "Again"})
    assert duplicate.status_code == 200
    page = duplicate.get_data(as_text=True)
    assert 'id="day-errors"' in page and "already closed on Mon 9 Jan 2090 (Staff training)" in page
    assert 'value="Again"' in page and count(Closure) == 1
    bad = admin.post(url, data={"day": "09/01/2090", "reason": ""})
    assert 'id="day-errors"' in bad.get_data(as_text=True) and 'id="reason-errors"' in bad.get_data(as_text=True)
    removed = admin.post(f"/admin/closures/{closure.id}/remove", follow_redirects=True)
    assert "Closure on Mon 9 Jan 2090 removed" in removed.get_data(as_text=True)
    assert count(Closure) == 0


def test_holiday_closures_cannot_be_removed(admin, site) -> None:
    closure = Closure(site_id=site.id, day=FUTURE_DAY, reason="New Year", source="holiday")
    db.session.add(closure)
    db.session.flush()
    response = admin.post(f"/admin/closures/{closure.id}/remove", follow_redirects=True)
    assert "only manual closures can be removed" in response.get_data(as_text=True)
    assert count(Closure) == 1


def next_christmas() -> date:
    today = datetime.now(BERLIN).date()
    christmas = date(today.year, 12, 25)
    return christmas if christmas >= today else date(today.year + 1, 12, 25)


def test_load_holidays_adds_christmas_once(admin, site, session) -> None:
    url = f"/admin/sites/{site.id}/closures/holidays"
    first = admin.post(url, follow_redirects=True).get_data(as_text=True)
    assert "public holidays (DE-BE) for the next 12 months" in first
    christmas = session.scalar(sa.select(Closure).where(Closure.day == next_christmas()))
    assert christmas.source == "holiday" and christmas.reason == "Christmas Day"
    loaded = count(Closure)
    assert loaded >= 9  # Berlin has at least nine public holidays a year
    second = admin.post(url, follow_redirects=True).get_data(as_text=True)
    assert "were already closures" in second and count(Closure) == loaded


def test_load_holidays_needs_a_country(admin, session) -> None:
    bare = make_site(holiday_country=None)
    response = admin.post(f"/admin/sites/{bare.id}/closures/holidays", follow_redirects=True)
    assert "holiday country in its settings first" in response.get_data(as_text=True)
    assert count(Closure) == 0


def test_closure_list_counts_appointments_per_day(admin, site) -> None:
    chair, other = site.chairs[0], site.chairs[1]
    make_appointment(site, chair, FUTURE_DAY, time(8))
    make_appointment(site, other, FUTURE_DAY, time(16))
    make_appointment(site, chair, FUTURE_DAY, time(12), status="cancelled")
    make_appointment(site, chair, FUTURE_DAY + timedelta(days=1), time(0, 30))  # local day after
    url = f"/admin/sites/{site.id}/closures"
    added = admin.post(url, data={"day": "2090-01-09", "reason": "Flood"}, follow_redirects=True)
    assert "2 appointments are booked that day: use Rebook" in added.get_data(as_text=True)
    admin.post(url, data={"day": "2090-01-11", "reason": "Power cut"})
    page = admin.get(url).get_data(as_text=True)
    assert "⚠ 2 appointments" in page and "0 appointments" in page
    assert f"/schedule/?site_id={site.id}&amp;date=2090-01-09" in page


def test_appointments_on_closures_uses_one_query(admin, site, session) -> None:
    days = [FUTURE_DAY + timedelta(days=n) for n in range(5)]
    for n, day in enumerate(days[:3]):
        make_appointment(site, site.chairs[n], day, time(23, 30) if n == 2 else time(9))
    make_appointment(site, site.chairs[3], days[3])  # a day not asked for
    elsewhere = make_site()
    make_appointment(elsewhere, elsewhere.chairs[0], days[0])  # another site
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = appointments_on_closures(site, days[:3] + days[4:])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert {day: len(rows) for day, rows in found.items()} == {days[0]: 1, days[1]: 1, days[2]: 1, days[4]: 0}
    assert found[days[0]][0].patient.family_name.startswith("Tester")


# --- API --------------------------------------------------------------------


def test_api_sites_shape(client, users, site) -> None:
    site.chairs[1].active = False
    site.chairs[3].position = -1
    db.session.flush()
    token = issue_token(users["viewer"])
    response = client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [body] = response.get_json()
    assert {"id", "name", "timezone", "chairs", "slot_minutes", "turnover_minutes", "max_starts_per_slot",
            "opening_hours"} <= set(body)
    assert body["id"] == site.id and body["timezone"] == "Europe/Berlin" and body["max_starts_per_slot"] == 2
    assert [(c["label"], c["kind"]) for c in body["chairs"]] == [("Bed 1", "bed"), ("Chair 1", "chair"),
                                                                ("Chair 3", "chair")]
    assert set(body["chairs"][0]) == {"id", "label", "kind"}
    assert body["opening_hours"][0] == {"weekday": 0, "opens": "08:00", "closes": "18:00"}
    assert len(body["opening_hours"]) == 5


def test_api_sites_needs_a_token(client, site) -> None:
    response = client.get("/api/v1/sites")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_refusal_names_at_most_ten_days(session, site) -> None:
    from clinic.admin.services import ChairInUse

    chair = site.chairs[0]
    appointments = [make_appointment(site, chair, FUTURE_DAY + timedelta(days=n)) for n in range(12)]
    message = str(ChairInUse(chair, appointments, site.timezone))
    assert "12 upcoming appointments" in message and "Wed 18 Jan 2090" in message
    assert "Thu 19 Jan 2090" not in message and "and 2 more days" in message


def test_closure_rebook_preview_and_apply(signed_in, session) -> None:
    from datetime import date, time

    from clinic.protocols.services import sync_catalog
    from clinic.scheduling.booking import SeriesRequest, book_series
    from clinic.scheduling.models import Closure
    from tests.factories import make_patient, make_site

    sync_catalog()
    site = make_site(chairs=2, beds=0)
    client = signed_in("admin")
    _series, plan = book_series(SeriesRequest(patient_id=make_patient().id, protocol_code="natalizumab-ms",
                                              start_date=date(2030, 1, 7), site_id=site.id,
                                              preferred_time=time(9), doses=2), None)
    closure = Closure(site_id=site.id, day=date(2030, 2, 4), reason="Flood")
    session.add(closure)
    session.flush()
    preview = client.get(f"/admin/closures/{closure.id}/rebook").get_data(as_text=True)
    assert "Will move" in preview and "Mon 4 Feb 2030, 09:00" in preview
    response = client.post(f"/admin/closures/{closure.id}/rebook")
    assert response.status_code == 302
    second = plan.appointments[1]
    session.refresh(second)
    assert second.start_at.date() != date(2030, 2, 4) and second.status == "scheduled"
