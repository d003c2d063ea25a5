"""Series and appointments through the API: preview, book, move, stop."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.extensions import db
from clinic.protocols.services import sync_catalog
from clinic.scheduling.models import Appointment, Closure, TreatmentSeries
from tests.conftest import count
from tests.factories import make_patient, make_site

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def clinic(session, users):
    sync_catalog()
    site = make_site(chairs=4, beds=1)
    return site


@pytest.fixture
def api(api_as):
    return api_as("scheduler")


def local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(BERLIN)


def test_preview_writes_nothing_and_places_every_dose(api, clinic) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "natalizumab-ms", "start_date": "2027-01-04",
            "site_id": clinic.id, "preferred_time": "09:00"}
    response = api("POST", "/api/v1/series/preview", json=body)
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert plan["unplaced"] == [] and len(plan["appointments"]) == 14
    first = plan["appointments"][0]
    assert first["start"] == "2027-01-04T09:00:00+01:00" and first["dose"] == {"amount": 300, "unit": "mg"}
    assert first["id"] is None and first["status"] == "proposed"
    assert count(Appointment) == 0 and count(TreatmentSeries) == 0


def test_book_series_and_read_it_back(api, clinic) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "ocrelizumab-ms", "start_date": "2027-01-04",
            "site_id": clinic.id, "preferred_time": "10:00", "horizon_days": 400}
    response = api("POST", "/api/v1/series", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["protocol_code"] == "ocrelizumab-ms" and created["protocol_version"] == 1
    assert [a["dose"]["amount"] for a in created["appointments"]] == [300, 300, 600, 600]
    assert all(a["id"] for a in created["appointments"])
    series = api("GET", f"/api/v1/series/{created['id']}", role="viewer").get_json()
    assert len(series["appointments"]) == 4 and series["status"] == "active"


def test_dst_weekly_series_stays_at_nine_local(api, clinic) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "eculizumab-mg", "start_date": "2027-03-01",
            "site_id": clinic.id, "preferred_time": "09:00", "horizon_days": 60}
    plan = api("POST", "/api/v1/series", json=body).get_json()
    starts = [local(a["start"]) for a in plan["appointments"]]
    assert any(s.date() < date(2027, 3, 28) for s in starts) and any(s.date() > date(2027, 3, 28) for s in starts)
    assert {s.time() for s in starts} == {time(9, 0)}
    offsets = {a["start"][-6:] for a in plan["appointments"]}
    assert offsets == {"+01:00", "+02:00"}


def test_closure_moves_a_dose_inside_its_window(api, clinic) -> None:
    db.session.add(Closure(site_id=clinic.id, day=date(2027, 2, 1), reason="Staff training"))
    db.session.flush()
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "natalizumab-ms", "start_date": "2027-01-04",
            "site_id": clinic.id, "doses": 2}
    plan = api("POST", "/api/v1/series/preview", json=body).get_json()
    second = plan["appointments"][1]
    assert second["target_date"] == "2027-02-01" and second["start"][:10] != "2027-02-01"
    assert second["earliest"] <= second["start"][:10] <= second["latest"]
    assert "closed" in second["moved_reason"]


def test_weight_based_protocol_without_weight_is_422(api, clinic) -> None:
    patient = make_patient(weight_kg=None)
    body = {"patient_id": patient.id, "protocol_code": "infliximab-ra", "start_date": "2027-01-04", "site_id": clinic.id}
    response = api("POST", "/api/v1/series", json=body)
    assert response.status_code == 422
    assert "weight_kg" in response.get_json()["error"]["fields"]
    assert count(TreatmentSeries) == 0


@pytest.mark.parametrize(
    "change,field",
    [({"start_date": "soon"}, "start_date"), ({"protocol_code": "nope"}, "protocol_code"),
     ({"site_id": 999999}, "site_id"), ({"preferred_time": "25:00"}, "preferred_time"),
     ({"horizon_days": 0}, "horizon_days"), ({"patient_id": "x"}, "patient_id")],
)
def test_bad_series_fields_are_422(api, clinic, change, field) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "natalizumab-ms", "start_date": "2027-01-04", "site_id": clinic.id}
    response = api("POST", "/api/v1/series/preview", json={**body, **change})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_confirmed_preview_taken_meanwhile_is_409_and_saves_nothing(api, clinic) -> None:
    first, second = make_patient(), make_patient()
    body = {"protocol_code": "natalizumab-ms", "start_date": "2027-01-04", "site_id": clinic.id, "doses": 3}
    preview = api("POST", "/api/v1/series/preview", json={**body, "patient_id": second.id}).get_json()
    pins = [{"number": a["number"], "chair_id": a["chair_id"], "start": a["start"]} for a in preview["appointments"]]
    assert api("POST", "/api/v1/series", json={**body, "patient_id": first.id, "appointments": pins}).status_code == 201
    before = count(Appointment)
    response = api("POST", "/api/v1/series", json={**body, "patient_id": second.id, "appointments": pins})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and "appointment #" in error["message"]
    assert count(Appointment) == before and count(TreatmentSeries) == 1


def test_single_booking_rules(api, clinic) -> None:
    patient, other = make_patient(), make_patient()
    chair = clinic.chairs[0]
    ok = {"patient_id": patient.id, "chair_id": chair.id, "start": "2027-01-12T09:00:00+01:00", "duration_minutes": 60}
    response = api("POST", "/api/v1/appointments", json=ok)
    assert response.status_code == 201, response.get_json()
    clash = api("POST", "/api/v1/appointments", json={**ok, "patient_id": other.id, "start": "2027-01-12T09:30:00+01:00"})
    assert clash.status_code == 409 and f"#{response.get_json()['id']}" in clash.get_json()["error"]["message"]
    after_turnover = api("POST", "/api/v1/appointments", json={**ok, "patient_id": other.id, "start": "2027-01-12T10:15:00+01:00"})
    assert after_turnover.status_code == 201
    saturday = api("POST", "/api/v1/appointments", json={**ok, "start": "2027-01-16T09:00:00+01:00"})
    assert saturday.status_code == 422 and "closed" in saturday.get_json()["error"]["message"]
    late = api("POST", "/api/v1/appointments", json={**ok, "start": "2027-01-12T17:30:00+01:00"})
    assert late.status_code == 422 and "opening hours" in late.get_json()["error"]["message"]
    no_offset = api("POST", "/api/v1/appointments", json={**ok, "start": "2027-01-12T09:00:00"})
    assert no_offset.status_code == 422


def test_start_capacity_is_enforced(api, clinic) -> None:
    start = "2027-01-12T09:00:00+01:00"
    for chair in clinic.chairs[:2]:
        body = {"patient_id": make_patient().id, "chair_id": chair.id, "start": start, "duration_minutes": 60}
        assert api("POST", "/api/v1/appointments", json=body).status_code == 201
    third = {"patient_id": make_patient().id, "chair_id": clinic.chairs[2].id, "start": start, "duration_minutes": 60}
    response = api("POST", "/api/v1/appointments", json=third)
    assert response.status_code == 422 and "capacity" in response.get_json()["error"]["message"]


def test_moving_a_dose_late_replans_later_doses(api, clinic) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "natalizumab-ms", "start_date": "2027-01-04",
            "site_id": clinic.id, "preferred_time": "09:00", "doses": 4}
    created = api("POST", "/api/v1/series", json=body).get_json()
    second = created["appointments"][1]
    assert second["start"].startswith("2027-02-01")
    moved = api("PATCH", f"/api/v1/appointments/{second['id']}", json={"start": "2027-02-04T09:00:00+01:00"})
    assert moved.status_code == 200, moved.get_json()
    replanned = moved.get_json()["replanned"]
    assert [r["number"] for r in replanned] == [3, 4]
    assert replanned[0]["target_date"] == "2027-03-04" and replanned[1]["target_date"] == "2027-04-01"
    assert replanned[0]["start"].startswith("2027-03-04")


def test_status_flow_and_roles(api, clinic) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "chair_id": clinic.chairs[0].id, "start": "2027-01-12T09:00:00+01:00",
            "duration_minutes": 60}
    appointment = api("POST", "/api/v1/appointments", json=body).get_json()
    url = f"/api/v1/appointments/{appointment['id']}"
    assert api("PATCH", url, role="nurse", json={"start": "2027-01-12T11:00:00+01:00"}).status_code == 403
    assert api("PATCH", url, role="viewer", json={"status": "checked_in"}).status_code == 403
    assert api("PATCH", url, role="nurse", json={"status": "completed"}).status_code == 422
    for status in ("checked_in", "in_chair", "completed"):
        response = api("PATCH", url, role="nurse", json={"status": status})
        assert response.status_code == 200 and response.get_json()["status"] == status
    assert api("PATCH", url, json={"status": "cancelled", "reason": "x"}).status_code == 422


def test_cancel_needs_a_reason_and_frees_the_chair(api, clinic) -> None:
    body = {"patient_id": make_patient().id, "chair_id": clinic.chairs[0].id,
            "start": "2027-01-12T09:00:00+01:00", "duration_minutes": 60}
    appointment = api("POST", "/api/v1/appointments", json=body).get_json()
    url = f"/api/v1/appointments/{appointment['id']}"
    assert api("PATCH", url, json={"status": "cancelled"}).status_code == 422
    assert api("PATCH", url, json={"status": "cancelled", "reason": "patient unwell"}).status_code == 200
    again = {**body, "patient_id": make_patient().id}
    assert api("POST", "/api/v1/appointments", json=again).status_code == 201


def test_stop_series_cancels_the_rest(api, clinic) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "natalizumab-ms", "start_date": "2030-01-07",
            "site_id": clinic.id, "doses": 3}
    created = api("POST", "/api/v1/series", json=body).get_json()
    assert api("POST", f"/api/v1/series/{created['id']}/stop", json={}).status_code == 422
    response = api("POST", f"/api/v1/series/{created['id']}/stop", json={"reason": "switched therapy"})
    assert response.status_code == 200
    assert {a["status"] for a in response.get_json()["appointments"]} == {"cancelled"}
    assert api("POST", f"/api/v1/series/{created['id']}/stop", json={"reason": "again"}).status_code == 409
    rows = db.session.scalars(sa.select(Appointment).where(Appointment.series_id == created["id"]))
    assert all(a.status == "cancelled" for a in rows)


def test_preview_shows_monitoring_flags_per_dose(api, clinic) -> None:
    patient = make_patient()
    body = {"patient_id": patient.id, "protocol_code": "natalizumab-ms", "start_date": "2027-01-04",
            "site_id": clinic.id, "doses": 3}
    plan = api("POST", "/api/v1/series/preview", json=body).get_json()
    first, second = plan["appointments"][0], plan["appointments"][1]
    assert {"first_infusion", "observation_required"} <= {f["code"] for f in first["flags"]}
    assert "first_infusion" not in {f["code"] for f in second["flags"]}
    assert any(f["code"] == "screening_missing" and "JCV" in f["message"] for f in first["flags"])


def test_weight_change_redoses_future_weight_based_doses(api, clinic) -> None:
    patient = make_patient(weight_kg=70, diagnoses=[("M05.79", "RA")])
    body = {"patient_id": patient.id, "protocol_code": "infliximab-ra", "start_date": "2030-01-07",
            "site_id": clinic.id, "doses": 3}
    created = api("POST", "/api/v1/series", json=body).get_json()
    assert {a["dose"]["amount"] for a in created["appointments"]} == {210}
    response = api("PATCH", f"/api/v1/patients/{patient.id}", json={"weight_kg": 80})
    assert response.status_code == 200
    redosed = response.get_json()["redosed"]
    assert [(r["before"]["amount"], r["after"]["amount"]) for r in redosed] == [(210, 240)] * 3
    series = api("GET", f"/api/v1/series/{created['id']}").get_json()
    assert {a["dose"]["amount"] for a in series["appointments"]} == {240}
    fixed = api("PATCH", f"/api/v1/patients/{patient.id}", json={"phone": "+49 30 1"}).get_json()
    assert fixed["redosed"] == []
