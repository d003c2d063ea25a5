"""GET /api/v1/flags and the series, upcoming appointments and flags of GET /api/v1/patients/{id}."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.domain.monitoring import F_FIELDS
from clinic.monitoring.flags import day_worklist
from clinic.monitoring.services import acknowledge, clear_rechallenge, record_observation
from clinic.protocols.services import current_protocol, sync_catalog
from clinic.scheduling.booking import SeriesRequest, book_series
from tests.factories import make_appointment, make_patient, make_site

BERLIN = ZoneInfo("Europe/Berlin")
A_FIELDS = {"id", "number", "phase", "target_date", "earliest", "latest", "start", "end", "chair_id", "site_id",
            "dose", "infusion_minutes", "observation_minutes", "status", "flags"}


def next_monday() -> date:
    today = datetime.now(BERLIN).date()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def clinic(session, users):
    sync_catalog()
    return make_site(chairs=4, beds=1)


@pytest.fixture
def api(api_as):
    return api_as("viewer")


@pytest.fixture
def booked(clinic, users):
    """A patient with two natalizumab doses from next Monday."""
    patient = make_patient()
    request = SeriesRequest(patient.id, "natalizumab-ms", next_monday(), clinic.id, preferred_time=time(9), doses=2)
    series, plan = book_series(request, users["scheduler"])
    return patient, series, plan.appointments


def test_flags_of_a_day(api, clinic, booked, users) -> None:
    patient, _series, appointments = booked
    day = next_monday()
    response = api("GET", f"/api/v1/flags?site_id={clinic.id}&date={day.isoformat()}")
    assert response.status_code == 200
    flags = response.get_json()
    assert [f["severity"] for f in flags] == ["critical", "warning", "warning", "info"]
    for flag in flags:
        assert set(F_FIELDS) | {"key", "acknowledged"} <= set(flag)
        assert flag["patient_id"] == patient.id and flag["appointment_id"] == appointments[0].id
        assert flag["acknowledged"] is None
    assert {f["code"] for f in flags} == {"screening_missing", "first_infusion", "observation_required"}
    assert flags[0]["kind"] == "screening" and "CBC" in flags[0]["message"]


def test_acknowledged_flags_say_by_whom_and_when(api, clinic, booked, users) -> None:
    day = next_monday()
    ack = acknowledge(day_worklist(clinic, day, day)[0].flag, users["nurse"])
    flags = api("GET", f"/api/v1/flags?site_id={clinic.id}&date={day.isoformat()}").get_json()
    assert flags[0]["acknowledged"] == {"by": users["nurse"].id, "at": ack.acknowledged_at.isoformat()}
    assert all(f["acknowledged"] is None for f in flags[1:])


def test_defaults_are_the_first_site_today(api, clinic, booked) -> None:
    response = api("GET", "/api/v1/flags")
    assert response.status_code == 200 and response.get_json() == []  # nothing booked today


@pytest.mark.parametrize(
    "query,field", [("date=2027-02-30", "date"), ("date=tomorrow", "date"), ("site_id=abc", "site_id"),
                    ("site_id=-1", "site_id")],
)
def test_bad_query_is_422(api, clinic, query: str, field: str) -> None:
    response = api("GET", f"/api/v1/flags?{query}")
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_unknown_site_is_404(api, clinic) -> None:
    response = api("GET", "/api/v1/flags?site_id=999999")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_no_token_is_401(client, clinic) -> None:
    assert client.get("/api/v1/flags").status_code == 401


def test_patient_includes_series_upcoming_and_flags(api, booked) -> None:
    patient, series, appointments = booked
    body = api("GET", f"/api/v1/patients/{patient.id}").get_json()
    assert body["series"] == [{"id": series.id, "protocol_code": "natalizumab-ms", "protocol_version": 1,
                               "day0": next_monday().isoformat(), "status": "active"}]
    assert [a["id"] for a in body["upcoming"]] == [a.id for a in appointments]
    first = body["upcoming"][0]
    assert A_FIELDS <= set(first) and first["start"].startswith(f"{next_monday().isoformat()}T09:00:00+")
    assert first["dose"] == {"amount": 300, "unit": "mg"} and first["status"] == "scheduled"
    assert {f["code"] for f in first["flags"]} >= {"screening_missing", "first_infusion"}
    assert all(f["appointment_id"] == first["id"] for f in first["flags"])
    assert len(body["flags"]) == sum(len(a["flags"]) for a in body["upcoming"])
    assert all(set(F_FIELDS) | {"key", "acknowledged"} <= set(f) for f in body["flags"])
    assert body["flags"][0]["severity"] == "critical"


def test_patient_flags_follow_a_rechallenge_clearance(api, clinic, booked, users) -> None:
    patient, _series, _appointments = booked
    start = datetime.combine(next_monday() - timedelta(days=28), time(9), BERLIN)
    past = make_appointment(clinic, start, patient=patient, status="completed", actual_start_at=start,
                            protocol_id=current_protocol("natalizumab-ms").id)
    record_observation(past, {"phase": "post", "reaction_grade": 4}, users["nurse"], datetime.now(BERLIN))
    codes = {f["code"] for f in api("GET", f"/api/v1/patients/{patient.id}").get_json()["flags"]}
    assert "do_not_rechallenge" in codes and "prior_reaction" not in codes
    clear_rechallenge(past, users["admin"], "cleared by neurology")
    codes = {f["code"] for f in api("GET", f"/api/v1/patients/{patient.id}").get_json()["flags"]}
    assert "do_not_rechallenge" not in codes and "prior_reaction" in codes


def test_cancelled_appointments_are_not_upcoming(api, booked) -> None:
    patient, _series, appointments = booked
    appointments[1].status = "cancelled"
    body = api("GET", f"/api/v1/patients/{patient.id}").get_json()
    assert [a["id"] for a in body["upcoming"]] == [appointments[0].id]
