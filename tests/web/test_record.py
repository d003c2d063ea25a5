"""The nurse's infusion record on the appointment page: the steps in order, flags, discharge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.extensions import db
from clinic.monitoring.models import FlagAck, Observation
from clinic.monitoring.services import acknowledge, unacknowledged_critical
from clinic.patients.models import Patient, Screening
from clinic.protocols.services import current_protocol, sync_catalog
from clinic.scheduling.models import Appointment, Site
from tests.factories import make_appointment, make_patient, make_site

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_DOSE = datetime(2030, 1, 7, 9, 0)
NORMAL_VITALS = {"temperature_c": "36.8", "heart_rate": "72", "systolic_bp": "124", "diastolic_bp": "78",
                 "respiratory_rate": "14", "spo2": "98", "consciousness_alert": "yes", "on_oxygen": "no"}


@pytest.fixture
def clinic(session, users) -> Site:
    sync_catalog()
    return make_site(chairs=4, beds=1)


def screened_patient() -> Patient:
    patient = make_patient()
    for test, result in (("cbc", "done"), ("jcv", "negative")):
        db.session.add(Screening(patient_id=patient.id, test=test, result=result, collected_on=date(2029, 12, 1)))
    db.session.flush()
    return patient


def booked(site: Site, patient: Patient | None = None, **fields: Any) -> Appointment:
    protocol = current_protocol("natalizumab-ms")
    assert protocol is not None
    return make_appointment(site, FIRST_DOSE, patient=patient or screened_patient(), protocol_id=protocol.id,
                            observation_minutes=60, **fields)


def step(client, appointment: Appointment, name: str, prefix: str, **data: str):
    """Post one step of the record with its prefixed field names."""
    return client.post(f"/appointments/{appointment.id}/record/{name}",
                       data={f"{prefix}-{key}": value for key, value in data.items()})


def local_input(instant: datetime) -> str:
    """Return what a datetime-local input sends for ``instant`` at the site."""
    return instant.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def page(client, appointment: Appointment) -> str:
    return client.get(f"/appointments/{appointment.id}").get_data(as_text=True)


def refreshed(appointment: Appointment) -> Appointment:
    db.session.expire_all()
    row = db.session.get(Appointment, appointment.id)
    assert row is not None
    return row


def test_the_nurse_fills_the_record_in_order(clinic, signed_in) -> None:
    appointment = booked(clinic)
    nurse = signed_in("nurse")
    assert "Check in Alex" in page(nurse, appointment)
    assert step(nurse, appointment, "check-in", "check_in").status_code == 302
    text = page(nurse, appointment)
    assert "Checked in at" in text and "Save pre-check" in text
    assert step(nurse, appointment, "pre-check", "precheck", active_infection="no", weight_kg="71.5",
                **NORMAL_VITALS).status_code == 302
    assert step(nurse, appointment, "start", "start").status_code == 302
    assert step(nurse, appointment, "during", "during", heart_rate="84", spo2="97").status_code == 302
    assert step(nurse, appointment, "during", "during", heart_rate="80").status_code == 302
    assert "2 sets" in page(nurse, appointment)
    assert step(nurse, appointment, "end", "end").status_code == 302
    text = page(nurse, appointment)
    assert "of observation left (until" in text and 'data-observe-until="' in text
    assert step(nurse, appointment, "post", "post", reaction_grade="2", symptoms="flushing", actions="Paused",
                **NORMAL_VITALS).status_code == 302
    row = refreshed(appointment)
    assert row.status == "in_chair" and row.checked_in_at and row.actual_start_at and row.actual_end_at
    phases = db.session.scalars(sa.select(Observation.phase).where(Observation.appointment_id == row.id))
    assert sorted(phases) == ["during", "during", "post", "pre"]
    assert row.patient.weight_kg == 71.5


def _to_discharge(client, appointment: Appointment, ended: datetime | None = None) -> None:
    start = local_input(ended - timedelta(hours=1)) if ended else ""
    end = local_input(ended) if ended else ""
    assert step(client, appointment, "check-in", "check_in").status_code == 302
    assert step(client, appointment, "pre-check", "precheck", **NORMAL_VITALS).status_code == 302
    assert step(client, appointment, "start", "start", started_at=start).status_code == 302
    assert step(client, appointment, "end", "end", ended_at=end).status_code == 302


def test_early_discharge_needs_a_reason(clinic, signed_in) -> None:
    appointment = booked(clinic)
    nurse = signed_in("nurse")
    _to_discharge(nurse, appointment)
    refused = step(nurse, appointment, "complete", "complete", administered_amount="300", lot_number="TY-4411")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "give a reason to discharge early" in text
    assert 'id="complete-override_reason-errors"' in text and 'value="TY-4411"' in text  # input kept
    assert refreshed(appointment).status == "in_chair"
    done = step(nurse, appointment, "complete", "complete", administered_amount="300", lot_number="TY-4411",
                override_reason="Patient's transport arrived; reviewed by Dr Keller")
    assert done.status_code == 302
    row = refreshed(appointment)
    assert row.status == "completed" and row.administered_amount == 300 and row.lot_number == "TY-4411"
    assert row.discharged_at is not None and row.actual_end_at is not None and row.actual_end_at <= row.discharged_at
    assert row.discharge_override_reason.startswith("Patient's transport")
    assert "Early discharge" in page(nurse, appointment)


def test_discharge_after_the_observation_time_needs_no_reason(clinic, signed_in) -> None:
    appointment = booked(clinic)
    nurse = signed_in("nurse")
    ended = datetime.now(UTC) - timedelta(minutes=75)
    _to_discharge(nurse, appointment, ended)
    assert "Observation time is over" in page(nurse, appointment)
    done = step(nurse, appointment, "complete", "complete", administered_amount="300", lot_number="TY-1")
    assert done.status_code == 302
    row = refreshed(appointment)
    assert row.status == "completed" and row.discharge_override_reason == ""
    assert row.actual_end_at.astimezone(BERLIN).strftime("%H:%M") == ended.astimezone(BERLIN).strftime("%H:%M")


def _ack_url(appointment: Appointment, key: str) -> str:
    return f"/appointments/{appointment.id}/flags/{quote(key, safe='')}/acknowledge"


def test_fever_at_pre_check_blocks_the_start_until_acknowledged(clinic, signed_in, users) -> None:
    appointment = booked(clinic, patient=make_patient())  # no screenings: other critical flags too
    today = datetime.now(BERLIN).date()
    for flag in unacknowledged_critical(appointment, today):
        acknowledge(flag, users["admin"])
    nurse = signed_in("nurse")
    assert step(nurse, appointment, "check-in", "check_in").status_code == 302
    assert step(nurse, appointment, "pre-check", "precheck", temperature_c="38.5", active_infection="no",
                consciousness_alert="yes").status_code == 302
    fever = [f for f in unacknowledged_critical(appointment, today) if f.code == "fever"]
    assert len(fever) == 1
    text = page(nurse, appointment)
    assert "Temperature 38.5 °C at pre-check" in text and "Acknowledge" in text
    refused = step(nurse, appointment, "start", "start")
    assert refused.status_code == 422
    assert "Acknowledge the critical flags before starting: Temperature 38.5 °C" in refused.get_data(as_text=True)
    assert refreshed(appointment).status == "checked_in"
    acked = nurse.post(_ack_url(appointment, fever[0].key))
    assert acked.status_code == 302 and acked.headers["Location"].endswith("#flags")
    ack = db.session.scalar(sa.select(FlagAck).where(FlagAck.flag_key == fever[0].key))
    assert ack is not None and ack.acknowledged_by_id == users["nurse"].id
    assert f"Acknowledged by {users['nurse'].display_name}" in page(nurse, appointment)
    assert step(nurse, appointment, "start", "start").status_code == 302
    assert refreshed(appointment).status == "in_chair"


def test_start_needs_a_pre_check(clinic, signed_in) -> None:
    appointment = booked(clinic)
    nurse = signed_in("nurse")
    step(nurse, appointment, "check-in", "check_in")
    refused = step(nurse, appointment, "start", "start")
    assert refused.status_code == 422 and "Record the pre-check" in refused.get_data(as_text=True)


def test_out_of_range_values_show_field_errors_and_keep_input(clinic, signed_in) -> None:
    appointment = booked(clinic)
    nurse = signed_in("nurse")
    step(nurse, appointment, "check-in", "check_in")
    response = step(nurse, appointment, "pre-check", "precheck", temperature_c="46", heart_rate="72",
                    spo2="101", weight_kg="0.5")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Temperature must be 30–45 °C.", "SpO₂ must be 50–100 %.", "Weight must be 1–400 kg."):
        assert message in text
    assert 'id="precheck-temperature_c-errors"' in text and 'value="46"' in text and 'value="72"' in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0


def test_empty_observation_is_refused(clinic, signed_in) -> None:
    appointment = booked(clinic, status="in_chair", actual_start_at=datetime.now(UTC))
    response = step(signed_in("nurse"), appointment, "during", "during", notes="all fine")
    assert response.status_code == 422 and "Enter at least one measurement." in response.get_data(as_text=True)


@pytest.mark.parametrize("name,prefix", [("pre-check", "precheck"), ("start", "start"), ("during", "during"),
                                         ("end", "end"), ("post", "post"), ("complete", "complete")])
@pytest.mark.parametrize("role", ["viewer", "scheduler"])
def test_only_nurses_and_admins_record(clinic, signed_in, role, name, prefix) -> None:
    appointment = booked(clinic)
    assert step(signed_in(role), appointment, name, prefix, heart_rate="80").status_code == 403


def test_scheduler_checks_in_and_acknowledges_viewer_only_reads(clinic, signed_in, users) -> None:
    appointment = booked(clinic, patient=make_patient())
    today = datetime.now(BERLIN).date()
    key = unacknowledged_critical(appointment, today)[0].key
    viewer = signed_in("viewer")
    text = page(viewer, appointment)
    assert "Infusion record" in text and "Check in Alex" not in text and ">Acknowledge<" not in text
    assert viewer.post(_ack_url(appointment, key)).status_code == 403
    viewer.post("/logout")
    scheduler = signed_in("scheduler")
    assert scheduler.post(_ack_url(appointment, key)).status_code == 302
    assert step(scheduler, appointment, "check-in", "check_in").status_code == 302
    assert "Save pre-check" not in page(scheduler, appointment)


def test_unknown_flag_key_and_reloads_go_back_to_the_page(clinic, signed_in) -> None:
    appointment = booked(clinic)
    nurse = signed_in("nurse")
    response = nurse.post(_ack_url(appointment, "fever:0:nothing"), follow_redirects=True)
    assert "no longer raised" in response.get_data(as_text=True)
    reload = nurse.get(f"/appointments/{appointment.id}/record/start")
    assert reload.status_code == 302 and reload.headers["Location"].endswith(f"/appointments/{appointment.id}#record")
    assert nurse.post("/appointments/999999/record/check-in").status_code == 404
