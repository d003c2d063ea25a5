"""Home, patient list and patient page."""

from __future__ import annotations

import pytest

from tests.factories import make_patient, make_site


def test_home_shows_today_and_links(signed_in) -> None:
    make_site()
    client = signed_in("viewer")
    page = client.get("/").get_data(as_text=True)
    assert "Today is" in page
    for link in ('href="/schedule/"', 'href="/patients/"', 'href="/protocols/"'):
        assert link in page
    assert "Paul" not in page  # no demo data leaks into an empty clinic


def test_patient_search_by_name_and_mrn(signed_in) -> None:
    make_patient(family_name="Schneider", given_name="Elif", mrn="RIC-9001")
    make_patient(family_name="Wagner", given_name="Jan", mrn="RIC-9002")
    client = signed_in("viewer")
    by_name = client.get("/patients/?q=schnei").get_data(as_text=True)
    assert "Schneider, Elif" in by_name and "Wagner" not in by_name
    by_mrn = client.get("/patients/?q=9002").get_data(as_text=True)
    assert "Wagner, Jan" in by_mrn and "Schneider" not in by_mrn
    nothing = client.get("/patients/?q=zzzz").get_data(as_text=True)
    assert "No patient matches" in nothing


def test_patient_list_paginates_and_sorts(signed_in) -> None:
    for n in range(12):
        make_patient(family_name=f"Page{n:02d}", mrn=f"PG-{n:02d}")
    client = signed_in("viewer")
    first = client.get("/patients/?sort=mrn").get_data(as_text=True)
    assert "Page 1 of 2" in first and "PG-00" in first and "PG-11" not in first
    second = client.get("/patients/?sort=mrn&page=2").get_data(as_text=True)
    assert "PG-11" in second


@pytest.mark.parametrize("page", ["0", "-3", "abc", "9999"])
def test_odd_page_numbers_do_not_fail(signed_in, page: str) -> None:
    make_patient()
    assert signed_in("viewer").get(f"/patients/?page={page}").status_code in (200, 404)


def test_patient_page_shows_diagnoses_and_measures(signed_in) -> None:
    patient = make_patient(
        family_name="Meyer", weight_kg=81.5, height_cm=182, diagnoses=[("M05.79", "Rheumatoid arthritis, RF+")]
    )
    page = signed_in("nurse").get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Meyer" in page and "M05.79" in page and "81.5 kg" in page and "182 cm" in page


def test_unknown_patient_is_404(signed_in) -> None:
    assert signed_in("viewer").get("/patients/999999").status_code == 404


def test_schedule_page_lists_chairs(signed_in) -> None:
    site = make_site(chairs=3, beds=1)
    page = signed_in("viewer").get(f"/schedule/?site_id={site.id}&date=2027-01-12").get_data(as_text=True)
    assert "Tue 12 Jan 2027" in page and "Chair 3" in page and "Bed 1" in page


def test_schedule_bad_date_is_400(signed_in) -> None:
    make_site()
    assert signed_in("viewer").get("/schedule/?date=12/01/2027").status_code == 400


def test_register_patient_form_keeps_input_and_shows_field_errors(signed_in) -> None:
    client = signed_in("scheduler")
    data = {
        "mrn": "NEW-1", "given_name": "Ida", "family_name": "Lorenz", "birth_date": "1975-07-01",
        "sex": "female", "weight_kg": "900", "height_cm": "170",
        "diagnosis-code": "M05.79", "diagnosis-label": "Rheumatoid arthritis",
    }
    page = client.post("/patients/new", data=data).get_data(as_text=True)
    assert "Weight must be 1–400 kg." in page and 'value="Lorenz"' in page
    response = client.post("/patients/new", data={**data, "weight_kg": "71"})
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lorenz, Ida" in detail and "M05.79" in detail


def test_viewer_may_not_register_patients(signed_in) -> None:
    assert signed_in("viewer").get("/patients/new").status_code == 403


def test_edit_patient_and_add_diagnosis(signed_in) -> None:
    patient = make_patient(family_name="Krause")
    client = signed_in("scheduler")
    form = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert 'value="Krause"' in form
    response = client.post(
        f"/patients/{patient.id}/edit",
        data={"mrn": patient.mrn, "given_name": "Alex", "family_name": "Krause", "birth_date": "1980-05-17",
              "sex": "female", "weight_kg": "72.5", "height_cm": "175"},
    )
    assert response.status_code == 302
    bad = client.post(f"/patients/{patient.id}/diagnoses", data={"code": "nonsense", "label": "x"})
    assert "Use an ICD-10 code" in bad.get_data(as_text=True)
    client.post(f"/patients/{patient.id}/diagnoses", data={"code": "g70.0", "label": "Myasthenia gravis"})
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "72.5 kg" in page and "G70.0" in page


def test_patient_page_title_is_plain_text(signed_in) -> None:
    patient = make_patient(family_name="Titlecase", given_name="Ida")
    page = signed_in("viewer").get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "<title>Titlecase, Ida · Infusion clinic</title>" in page
