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
