"""The booking wizard: patient → protocol → details → preview → confirm."""

from __future__ import annotations

import re

import pytest

from clinic.protocols.services import sync_catalog
from clinic.scheduling.models import Appointment, TreatmentSeries
from tests.conftest import count
from tests.factories import make_patient, make_site


@pytest.fixture
def clinic(session):
    sync_catalog()
    return make_site(chairs=4, beds=1)


def details(site, patient, **overrides) -> dict[str, str]:
    data = {"patient_id": str(patient.id), "protocol_code": "natalizumab-ms", "start_date": "2027-01-04",
            "site_id": str(site.id), "preferred_time": "09:00", "horizon_days": "365", "preferred_weekday": ""}
    data.update(overrides)
    return data


def test_patient_step_finds_patients(clinic, signed_in) -> None:
    make_patient(family_name="Wizard", mrn="WZ-1")
    page = signed_in("scheduler").get("/book/?q=wizard").get_data(as_text=True)
    assert "Wizard" in page and "Book for" in page


def test_protocol_step_lists_matching_protocols_first(clinic, signed_in) -> None:
    patient = make_patient(diagnoses=[("G35", "Multiple sclerosis")])
    page = signed_in("scheduler").get(f"/book/{patient.id}").get_data(as_text=True)
    assert "natalizumab-ms" in page and "ocrelizumab-ms" in page and "infliximab-ra" not in page
    everything = signed_in("scheduler").get(f"/book/{patient.id}?all=1").get_data(as_text=True)
    assert "infliximab-ra" in everything


def test_preview_then_confirm_books_the_series(clinic, signed_in) -> None:
    patient = make_patient()
    client = signed_in("scheduler")
    url = f"/book/{patient.id}/natalizumab-ms"
    preview = client.post(url, data=details(clinic, patient)).get_data(as_text=True)
    assert "Preview: 14 appointments" in preview and "Mon 4 Jan 2027, 09:00" in preview
    assert count(Appointment) == 0
    pins = re.search(r'name="pins" value="([^"]+)"', preview).group(1).replace("&#34;", '"')
    response = client.post(url + "/confirm", data={**details(clinic, patient), "pins": pins})
    assert response.status_code == 302 and response.headers["Location"] == f"/patients/{patient.id}"
    assert count(TreatmentSeries) == 1 and count(Appointment) == 14
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Booked 14 appointments" in page


def test_bad_details_keep_input_and_show_field_errors(clinic, signed_in) -> None:
    patient = make_patient()
    page = signed_in("scheduler").post(
        f"/book/{patient.id}/natalizumab-ms", data=details(clinic, patient, start_date="next week", preferred_time="9")
    ).get_data(as_text=True)
    assert "Enter a date like 2027-01-04." in page and "Not a valid time value" in page
    assert count(Appointment) == 0


def test_missing_weight_is_explained(clinic, signed_in) -> None:
    patient = make_patient(weight_kg=None, diagnoses=[("M05.79", "RA")])
    page = signed_in("scheduler").post(
        f"/book/{patient.id}/infliximab-ra", data=details(clinic, patient, protocol_code="infliximab-ra")
    ).get_data(as_text=True)
    assert "weight_kg is required" in page


def test_confirm_after_someone_took_the_slots_is_a_conflict(clinic, signed_in) -> None:
    first, second = make_patient(), make_patient()
    client = signed_in("scheduler")
    preview = client.post(f"/book/{second.id}/natalizumab-ms", data=details(clinic, second, doses="2")).get_data(as_text=True)
    pins = re.search(r'name="pins" value="([^"]+)"', preview).group(1).replace("&#34;", '"')
    ok = client.post(f"/book/{first.id}/natalizumab-ms/confirm", data={**details(clinic, first, doses="2"), "pins": pins})
    assert ok.status_code == 302
    clash = client.post(f"/book/{second.id}/natalizumab-ms/confirm", data={**details(clinic, second, doses="2"), "pins": pins})
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    assert "appointment #" in page and "Preview: 2 appointments" in page
    assert count(TreatmentSeries) == 1


def test_nurse_cannot_book(clinic, signed_in) -> None:
    assert signed_in("nurse").get("/book/").status_code == 403


def _series(client, clinic, patient, doses="4"):
    url = f"/book/{patient.id}/natalizumab-ms"
    preview = client.post(url, data=details(clinic, patient, doses=doses)).get_data(as_text=True)
    pins = re.search(r'name="pins" value="([^"]+)"', preview).group(1).replace("&#34;", '"')
    assert client.post(url + "/confirm", data={**details(clinic, patient, doses=doses), "pins": pins}).status_code == 302
    from clinic.extensions import db
    import sqlalchemy as sa

    return list(db.session.scalars(sa.select(Appointment).where(Appointment.patient_id == patient.id)
                                   .order_by(Appointment.dose_number)))


def test_move_shows_old_and_new_dates_before_saving(clinic, signed_in) -> None:
    patient = make_patient()
    client = signed_in("scheduler")
    rows = _series(client, clinic, patient)
    second = rows[1]
    form = {"day": "2027-02-04", "start_time": "09:00", "chair_id": str(second.chair_id)}
    preview = client.post(f"/appointments/{second.id}/move", data=form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Check before saving" in text
    assert "Thu 4 Mar 2027, 09:00" in text  # dose 3 re-planned 28 days after the moved dose
    saved = client.post(f"/appointments/{second.id}/move", data={**form, "confirm": "yes"})
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Appointment moved. 2 later doses re-planned." in page


def test_move_to_a_closed_day_is_refused(clinic, signed_in) -> None:
    patient = make_patient()
    client = signed_in("scheduler")
    first = _series(client, clinic, patient, doses="1")[0]
    response = client.post(f"/appointments/{first.id}/move",
                           data={"day": "2027-01-09", "start_time": "09:00", "chair_id": str(first.chair_id)})
    assert response.status_code == 422 and "closed" in response.get_data(as_text=True)


def test_cancel_needs_reason_then_works(clinic, signed_in) -> None:
    patient = make_patient()
    client = signed_in("scheduler")
    first = _series(client, clinic, patient, doses="1")[0]
    refused = client.post(f"/appointments/{first.id}/status", data={"status": "cancelled"})
    assert refused.status_code == 422 and "reason is required" in refused.get_data(as_text=True)
    done = client.post(f"/appointments/{first.id}/status", data={"status": "cancelled", "reason": "flu"})
    assert done.status_code == 302


def test_given_late_replans(clinic, signed_in) -> None:
    patient = make_patient()
    client = signed_in("scheduler")
    rows = _series(client, clinic, patient, doses="3")
    first = rows[0]
    form = {"day": "2027-01-06", "start_time": "10:00"}
    saved = client.post(f"/appointments/{first.id}/given", data={**form, "confirm": "yes"})
    assert saved.status_code == 302
    from clinic.extensions import db

    db.session.expire_all()
    assert first.status == "completed"
    assert rows[1].target_date.isoformat() == "2027-02-03"


def test_book_single_from_an_empty_slot(clinic, signed_in) -> None:
    patient = make_patient(mrn="SINGLE-1")
    client = signed_in("scheduler")
    chair = clinic.chairs[0]
    start = "2030-01-08T10:00:00+01:00"
    form = client.get(f"/book/single?chair_id={chair.id}&start={start}").get_data(as_text=True)
    assert "Book one appointment in Chair 1" in form
    bad = client.post(f"/book/single?chair_id={chair.id}", data={"mrn": "nobody", "chair_id": chair.id,
                                                                 "start": start, "duration_minutes": 60})
    assert "No patient with MRN nobody" in bad.get_data(as_text=True)
    ok = client.post("/book/single", data={"mrn": "single-1", "chair_id": chair.id, "start": start,
                                           "duration_minutes": 60})
    assert ok.status_code == 302 and "date=2030-01-08" in ok.headers["Location"]
    again = client.post("/book/single", data={"mrn": "single-1", "chair_id": chair.id, "start": start,
                                              "duration_minutes": 60})
    assert again.status_code == 200 and "appointment #" in again.get_data(as_text=True)
    assert count(Appointment) == 1
