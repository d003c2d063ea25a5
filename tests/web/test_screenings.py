"""Screenings: validity as of today, the "Add screening" page and POST /api/v1/patients/{id}/screenings."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from clinic.domain.monitoring import DUE_SOON_DAYS, ScreeningResult
from clinic.domain.policy import MonitoringPolicy, ScreeningRequirement
from clinic.domain.screening_status import screening_status, screening_statuses
from clinic.extensions import db
from clinic.patients.models import Screening
from clinic.protocols.services import sync_catalog
from clinic.scheduling.booking import SeriesRequest, book_series
from tests.conftest import count
from tests.factories import make_patient, make_site

COLLECTED = date(2027, 1, 4)
JCV = ScreeningRequirement("jcv", "periodic", valid_days=182)


def jcv(day: date = COLLECTED) -> ScreeningResult:
    return ScreeningResult("jcv", "negative", 0.2, day)


# -- validity as of today (pure) ----------------------------------------------


@pytest.mark.parametrize(
    "days_after,status,counts",
    [
        (0, "valid", True),
        (182 - DUE_SOON_DAYS - 1, "valid", True),  # 15 days left
        (182 - DUE_SOON_DAYS, "due_soon", True),  # 14 days left
        (180, "due_soon", True),  # still valid, 2 days left
        (182, "due_soon", True),  # the last valid day
        (183, "expired", False),
        (400, "expired", False),
    ],
)
def test_jcv_every_182_days(days_after: int, status: str, counts: bool) -> None:
    today = COLLECTED + timedelta(days=days_after)
    standing = screening_status(JCV, [jcv()], today)
    assert (standing.status, standing.counts) == (status, counts)
    assert standing.expires_on == date(2027, 7, 5) and standing.days_left == 182 - days_after
    assert standing.latest == jcv()


def test_missing_without_a_result_or_with_only_a_later_one() -> None:
    assert screening_status(JCV, [], COLLECTED).status == "missing"
    assert screening_status(JCV, [jcv(COLLECTED + timedelta(days=1))], COLLECTED).status == "missing"
    other_test = ScreeningResult("cbc", "done", 3.1, COLLECTED)
    assert screening_status(JCV, [other_test], COLLECTED).label == "missing"


def test_newest_result_decides() -> None:
    old, new = jcv(COLLECTED - timedelta(days=300)), jcv(COLLECTED - timedelta(days=10))
    assert screening_status(JCV, [old, new], COLLECTED).latest == new


def test_before_first_counts_once_treatment_started() -> None:
    hbv = ScreeningRequirement("hbv", "before_first", valid_days=90)
    result = ScreeningResult("hbv", "negative", None, COLLECTED)
    later = COLLECTED + timedelta(days=200)
    assert screening_status(hbv, [result], later).status == "expired"  # not started: too old to start on
    assert screening_status(hbv, [result], later, last_dose_on=COLLECTED + timedelta(days=7)).status == "valid"
    assert screening_status(hbv, [], later, last_dose_on=COLLECTED).status == "missing"


def test_before_each_without_validity_is_needed_again_after_each_dose() -> None:
    cbc = ScreeningRequirement("cbc", "before_each")
    result = ScreeningResult("cbc", "done", 2.4, COLLECTED)
    assert screening_status(cbc, [result], COLLECTED, last_dose_on=COLLECTED - timedelta(days=28)).status == "valid"
    assert screening_status(cbc, [result], COLLECTED, last_dose_on=COLLECTED).status == "expired"


def test_short_validity_before_each_dose_is_never_due_soon() -> None:
    cbc = ScreeningRequirement("cbc", "before_each", valid_days=3)
    result = ScreeningResult("cbc", "done", 2.4, COLLECTED)
    assert screening_status(cbc, [result], COLLECTED + timedelta(days=3)).status == "valid"
    assert screening_status(cbc, [result], COLLECTED + timedelta(days=4)).status == "expired"


def test_statuses_merge_protocols_and_add_the_neutrophil_cbc() -> None:
    first = MonitoringPolicy(drug="natalizumab", screenings=(JCV,))
    second = MonitoringPolicy(drug="cyclophosphamide", screenings=(JCV,), neutrophils_below=1.5)
    statuses = screening_statuses([("Natalizumab", first), ("Cyclophosphamide", second)], [jcv()], COLLECTED)
    assert [(s.requirement.test, s.status) for s in statuses] == [("jcv", "valid"), ("cbc", "missing")]
    assert statuses[0].needed_for == ("Natalizumab", "Cyclophosphamide")
    assert statuses[1].needed_for == ("Cyclophosphamide",)


# -- the page -------------------------------------------------------------------


@pytest.fixture
def booked(session, users):
    """A patient with one future natalizumab dose (needs JCV every 182 days and a CBC before the first)."""
    sync_catalog()
    site = make_site()
    patient = make_patient(family_name="Hartmann")
    today = date.today()
    start = today + timedelta(days=7 - today.weekday())  # next Monday
    book_series(SeriesRequest(patient.id, "natalizumab-ms", start, site.id, preferred_time=time(9), doses=1),
                users["scheduler"])
    return patient


def form_data(**changes: str) -> dict[str, str]:
    values = {"test": "jcv", "result": "negative", "value": "0.25",
              "collected_on": (date.today() - timedelta(days=10)).isoformat(), "notes": "Unilabs"}
    values.update(changes)
    return values


def test_patient_page_lists_required_screenings_with_status(signed_in, booked) -> None:
    page = signed_in("viewer").get(f"/patients/{booked.id}").get_data(as_text=True)
    assert 'id="screenings"' in page and "anti-JCV antibody test" in page and "CBC" in page
    assert page.count('class="screening-missing"') == 2 and "No screening recorded." in page
    assert "Add screening" not in page  # viewers do not write


@pytest.mark.parametrize("role", ["nurse", "admin"])
def test_nurse_or_admin_adds_a_screening(signed_in, booked, role: str) -> None:
    client = signed_in(role)
    assert "Add screening" in client.get(f"/patients/{booked.id}").get_data(as_text=True)
    form = client.get(f"/patients/{booked.id}/screenings/new").get_data(as_text=True)
    assert "neutrophil count (×10⁹/L)" in form and "antibody index" in form and "g/L" in form
    response = client.post(f"/patients/{booked.id}/screenings/new", data=form_data())
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/patients/{booked.id}#screenings")
    page = client.get(f"/patients/{booked.id}").get_data(as_text=True)
    assert "Anti-JCV antibody test recorded: negative, 0.25" in page
    assert 'class="screening-valid"' in page and 'class="screening-missing"' in page and "Unilabs" in page
    saved = db.session.scalar(sa.select(Screening).where(Screening.patient_id == booked.id))
    assert saved is not None and saved.recorded_by_id is not None and saved.value == 0.25


@pytest.mark.parametrize(
    "change,message",
    [
        ({"collected_on": (date.today() + timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({"collected_on": "1989-12-31"}, "cannot be before 1990"),
        ({"collected_on": "31/12/2026"}, "Enter the collection date like 2027-01-12."),
        ({"test": ""}, "Choose the test."),
        ({"test": "mri"}, "Not a valid choice."),
        ({"result": "maybe"}, "Not a valid choice."),
        ({"value": "-1"}, "Must be 0–20 index for this test."),
        ({"test": "cbc", "value": "150"}, "Must be 0–100 ×10⁹/L neutrophils for this test."),
    ],
)
def test_bad_screening_form_keeps_input(signed_in, booked, change: dict[str, str], message: str) -> None:
    client = signed_in("nurse")
    response = client.post(f"/patients/{booked.id}/screenings/new", data=form_data(**change))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page and "Unilabs" in page
    assert count(Screening) == 0


@pytest.mark.parametrize("role", ["viewer", "scheduler"])
def test_only_nurses_and_admins_add_screenings(signed_in, booked, role: str) -> None:
    client = signed_in(role)
    assert client.get(f"/patients/{booked.id}/screenings/new").status_code == 403
    assert client.post(f"/patients/{booked.id}/screenings/new", data=form_data()).status_code == 403
    assert count(Screening) == 0


# -- the API ----------------------------------------------------------------------


@pytest.fixture
def api(api_as):
    return api_as("nurse")


API_BODY = {"test": "cbc", "result": "done", "value": 2.1, "collected_on": "2026-01-04"}


@pytest.mark.parametrize("role", ["nurse", "admin"])
def test_api_records_a_screening(api, booked, role: str) -> None:
    response = api("POST", f"/api/v1/patients/{booked.id}/screenings", role=role, json=API_BODY)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in API_BODY} == API_BODY and body["id"] and body["patient_id"] == booked.id
    again = api("GET", f"/api/v1/patients/{booked.id}", role="viewer").get_json()
    assert [s["test"] for s in again["screenings"]] == ["cbc"]


def test_api_value_is_optional(api, booked) -> None:
    body = {"test": "meningococcal_vaccine", "result": "done", "collected_on": "2026-03-01"}
    response = api("POST", f"/api/v1/patients/{booked.id}/screenings", json=body)
    assert response.status_code == 201 and response.get_json()["value"] is None


@pytest.mark.parametrize("role", ["viewer", "scheduler"])
def test_api_other_roles_are_403(api, booked, role: str) -> None:
    response = api("POST", f"/api/v1/patients/{booked.id}/screenings", role=role, json=API_BODY)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert count(Screening) == 0


def test_api_unknown_patient_is_404(api, session, users) -> None:
    response = api("POST", "/api/v1/patients/999999/screenings", json=API_BODY)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"test": "xyz"}, "test"),
        ({"test": None}, "test"),
        ({"result": "maybe"}, "result"),
        ({"collected_on": (date.today() + timedelta(days=2)).isoformat()}, "collected_on"),
        ({"collected_on": "1989-12-31"}, "collected_on"),
        ({"collected_on": "04/01/2026"}, "collected_on"),
        ({"collected_on": None}, "collected_on"),
        ({"value": -0.1}, "value"),
        ({"value": 101}, "value"),
        ({"test": "jcv", "value": 25}, "value"),
        ({"value": "lots"}, "value"),
        ({"value": "nan"}, "value"),
        ({"value": [1]}, "value"),
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_api_bad_fields_are_422(api, booked, change: dict[str, object], field: str) -> None:
    response = api("POST", f"/api/v1/patients/{booked.id}/screenings", json={**API_BODY, **change})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert count(Screening) == 0


def test_api_boundaries_are_accepted(api, booked) -> None:
    for body in ({**API_BODY, "collected_on": "1990-01-01", "value": 0},
                 {**API_BODY, "collected_on": date.today().isoformat(), "value": 100}):
        assert api("POST", f"/api/v1/patients/{booked.id}/screenings", json=body).status_code == 201
    assert count(Screening) == 2


def test_api_malformed_json_is_400(api, booked) -> None:
    response = api("POST", f"/api/v1/patients/{booked.id}/screenings", data="{not json",
                   content_type="application/json")
    assert response.status_code == 400
