"""Observations through the API: ranges, phases, roles, and the flags they raise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from clinic.extensions import db
from clinic.patients.models import Patient, Screening
from clinic.protocols.services import current_protocol, sync_catalog
from clinic.scheduling.models import Appointment, Site
from tests.factories import make_appointment, make_patient, make_site

#: far enough ahead that the real date never matters to the screening rules
FIRST_DOSE = datetime(2030, 1, 7, 9, 0)
NEXT_DOSE = datetime(2030, 2, 4, 9, 0)


@pytest.fixture
def clinic(session, users) -> Site:
    sync_catalog()
    return make_site(chairs=4, beds=1)


@pytest.fixture
def api(api_as):
    return api_as("nurse")


def screened_patient() -> Patient:
    """Return a patient with the natalizumab screenings on file (no critical screening flags)."""
    patient = make_patient()
    for test, result in (("cbc", "done"), ("jcv", "negative")):
        db.session.add(Screening(patient_id=patient.id, test=test, result=result, collected_on=date(2029, 12, 1)))
    db.session.flush()
    return patient


def natalizumab(site: Site, start: datetime, patient: Patient, **fields: Any) -> Appointment:
    protocol = current_protocol("natalizumab-ms")
    assert protocol is not None
    return make_appointment(site, start, patient=patient, protocol_id=protocol.id, observation_minutes=60, **fields)


def in_chair(site: Site) -> Appointment:
    started = datetime.now(UTC) - timedelta(minutes=30)
    return natalizumab(site, FIRST_DOSE, screened_patient(), status="in_chair", actual_start_at=started)


def url(appointment: Appointment | int) -> str:
    appointment_id = appointment if isinstance(appointment, int) else appointment.id
    return f"/api/v1/appointments/{appointment_id}/observations"


# field, too low, lowest, highest, too high, the phase that records it
RANGES = [
    ("temperature_c", 29.9, 30, 45, 45.1, "during"),
    ("heart_rate", 19, 20, 250, 251, "during"),
    ("systolic_bp", 49, 50, 260, 261, "during"),
    ("diastolic_bp", 19, 20, 160, 161, "during"),
    ("respiratory_rate", 3, 4, 60, 61, "during"),
    ("spo2", 49, 50, 100, 101, "during"),
    ("reaction_grade", -1, 0, 5, 6, "post"),
    ("weight_kg", 0.9, 1, 400, 400.1, "pre"),
]
BOUNDARIES = [
    pytest.param(name, value, status, phase, id=f"{name}={value}")
    for name, low_out, low, high, high_out, phase in RANGES
    for value, status in ((low_out, 422), (low, 201), (high, 201), (high_out, 422))
]


@pytest.mark.parametrize("name,value,status,phase", BOUNDARIES)
def test_range_boundaries(api, clinic, name, value, status, phase) -> None:
    appointment = natalizumab(clinic, FIRST_DOSE, screened_patient()) if phase == "pre" else in_chair(clinic)
    response = api("POST", url(appointment), json={"phase": phase, name: value})
    assert response.status_code == status, response.get_json()
    if status == 422:
        error = response.get_json()["error"]
        assert error["code"] == "invalid" and list(error["fields"]) == [name]
    else:
        assert response.get_json()["id"] > 0


@pytest.mark.parametrize(
    "body,field",
    [
        ({"phase": "later", "heart_rate": 80}, "phase"),
        ({"heart_rate": 80}, "phase"),
        ({"phase": "during", "temperature_c": "hot"}, "temperature_c"),
        ({"phase": "during", "temperature_c": float("nan")}, "temperature_c"),
        ({"phase": "during", "heart_rate": 80.5}, "heart_rate"),
        ({"phase": "during", "heart_rate": True}, "heart_rate"),
        ({"phase": "during", "heart_rate": [80]}, "heart_rate"),
        ({"phase": "during", "systolic_bp": 100, "diastolic_bp": 100}, "diastolic_bp"),
        ({"phase": "during", "heart_rate": 80, "recorded_at": "2026-11-25T09:00:00"}, "recorded_at"),
        ({"phase": "during", "heart_rate": 80, "recorded_at": "2099-01-01T09:00:00+01:00"}, "recorded_at"),
        ({"phase": "during", "heart_rate": 80, "consciousness_alert": "maybe"}, "consciousness_alert"),
        ({"phase": "post", "reaction_grade": 2, "symptoms": ["sneezing"]}, "symptoms"),
        ({"phase": "post", "reaction_grade": 2, "symptoms": "rash"}, "symptoms"),
        ({"phase": "post", "reaction_grade": 2.5}, "reaction_grade"),
        ({"phase": "during", "weight_kg": 70}, "weight_kg"),
        ({"phase": "during", "notes": "nothing measured"}, "_form"),
        ({"phase": "pre", "heart_rate": 80}, "phase"),  # a pre-check once the infusion runs
    ],
)
def test_bad_observations_are_422_with_the_field(api, clinic, body, field) -> None:
    response = api("POST", url(in_chair(clinic)), json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_empty_foreign_fields_are_accepted(api, clinic) -> None:
    appointment = natalizumab(clinic, FIRST_DOSE, screened_patient())
    body = {"phase": "pre", "temperature_c": 36.8, "reaction_grade": None, "symptoms": [], "notes": ""}
    assert api("POST", url(appointment), json=body).status_code == 201


@pytest.mark.parametrize("role,status", [("viewer", 403), ("scheduler", 403), ("nurse", 201), ("admin", 201)])
def test_nurses_and_admins_write_observations(api, clinic, role, status) -> None:
    response = api("POST", url(in_chair(clinic)), role=role, json={"phase": "during", "heart_rate": 80})
    assert response.status_code == status


def test_unknown_appointment_missing_token_and_malformed_json(api, client, clinic) -> None:
    assert api("POST", url(999999), json={"phase": "pre", "heart_rate": 80}).status_code == 404
    assert api("GET", url(999999)).status_code == 404
    assert client.post(url(999999), json={"phase": "pre"}).status_code == 401
    appointment = in_chair(clinic)
    malformed = api("POST", url(appointment), data="{", content_type="application/json")
    assert malformed.status_code == 400 and malformed.get_json()["error"]["code"] == "malformed_json"


def test_fever_at_pre_check_returns_a_critical_fever_flag(api, clinic) -> None:
    appointment = natalizumab(clinic, FIRST_DOSE, screened_patient())
    response = api("POST", url(appointment), json={"phase": "pre", "temperature_c": 38.6, "heart_rate": 88})
    assert response.status_code == 201
    fever = [f for f in response.get_json()["flags"] if f["code"] == "fever"]
    assert len(fever) == 1 and fever[0]["severity"] == "critical" and fever[0]["appointment_id"] == appointment.id
    assert set(fever[0]) >= {"kind", "severity", "code", "message", "patient_id", "appointment_id"}
    assert fever[0]["acknowledged"] is None
    started = api("PATCH", f"/api/v1/appointments/{appointment.id}", json={"status": "checked_in"})
    assert started.status_code == 200
    refused = api("PATCH", f"/api/v1/appointments/{appointment.id}", json={"status": "in_chair"})
    assert refused.status_code == 422 and "38.6" in refused.get_json()["error"]["message"]


def test_list_returns_observations_in_order(api, clinic) -> None:
    appointment = in_chair(clinic)
    now = datetime.now(UTC)
    first = {"phase": "during", "heart_rate": 90, "recorded_at": (now - timedelta(minutes=20)).isoformat()}
    second = {"phase": "post", "reaction_grade": 1, "symptoms": ["flushing", "itching"], "actions": "Slowed rate"}
    for body in (second, first):
        assert api("POST", url(appointment), json=body).status_code == 201
    listed = api("GET", url(appointment), role="viewer").get_json()
    assert [o["phase"] for o in listed] == ["during", "post"]
    assert listed[0]["heart_rate"] == 90 and listed[0]["recorded_at"].endswith("+01:00")
    assert listed[1]["symptoms"] == ["flushing", "itching"] and listed[1]["actions"] == "Slowed rate"
    assert listed[1]["reaction_label"].startswith("Grade 1")


def _give_with_reaction(api, appointment: Appointment, grade: int) -> None:
    """Check in, pre-check, start, record the reaction and complete, all through the API."""
    patch = f"/api/v1/appointments/{appointment.id}"
    assert api("PATCH", patch, json={"status": "checked_in"}).status_code == 200
    precheck = {"phase": "pre", "temperature_c": 36.7, "heart_rate": 72}
    assert api("POST", url(appointment), json=precheck).status_code == 201
    assert api("PATCH", patch, json={"status": "in_chair"}).status_code == 200, "no critical flag on a screened patient"
    body = {"phase": "post", "reaction_grade": grade, "symptoms": ["rash", "dyspnoea"], "actions": "Stopped infusion"}
    assert api("POST", url(appointment), json=body).status_code == 201
    assert api("PATCH", patch, json={"status": "completed"}).status_code == 200


@pytest.mark.parametrize(
    "grade,code,severity",
    [(3, "do_not_rechallenge", "critical"), (2, "prior_reaction", "warning")],
)
def test_a_reaction_flags_the_next_dose_of_the_drug(api, clinic, grade, code, severity) -> None:
    patient = screened_patient()
    first = natalizumab(clinic, FIRST_DOSE, patient)
    second = natalizumab(clinic, NEXT_DOSE, patient, dose_number=2)
    _give_with_reaction(api, first, grade)
    response = api("POST", url(second), json={"phase": "pre", "temperature_c": 36.6})
    assert response.status_code == 201
    flags = {f["code"]: f for f in response.get_json()["flags"]}
    assert flags[code]["severity"] == severity and flags[code]["kind"] == "reaction"
    assert f"Grade {grade} infusion reaction to natalizumab" in flags[code]["message"]
    other = "prior_reaction" if code == "do_not_rechallenge" else "do_not_rechallenge"
    assert other not in flags
