"""/api/v1/patients: create, read, patch; bad input never a 500."""

from __future__ import annotations

import pytest

from clinic.patients.models import Patient
from tests.conftest import count

VALID = {
    "mrn": "API-1",
    "given_name": "Lena",
    "family_name": "Vogel",
    "birth_date": "1984-03-02",
    "sex": "female",
    "weight_kg": 64.5,
    "height_cm": 168,
    "diagnoses": [{"code": "g35", "label": "Multiple sclerosis"}],
}


@pytest.fixture
def api(api_as):
    return api_as("scheduler")


def test_create_and_read(api) -> None:
    response = api("POST", "/api/v1/patients", json=VALID)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["mrn"] == "API-1" and body["diagnoses"][0]["code"] == "G35"
    again = api("GET", f"/api/v1/patients/{body['id']}", role="viewer").get_json()
    assert again["family_name"] == "Vogel" and again["weight_kg"] == 64.5


def test_duplicate_mrn_is_409(api) -> None:
    assert api("POST", "/api/v1/patients", json=VALID).status_code == 201
    response = api("POST", "/api/v1/patients", json={**VALID, "mrn": "api-1"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate"
    assert count(Patient) == 1


@pytest.mark.parametrize(
    "change,field",
    [
        ({"weight_kg": 0.5}, "weight_kg"),
        ({"weight_kg": 401}, "weight_kg"),
        ({"height_cm": 29}, "height_cm"),
        ({"height_cm": 251}, "height_cm"),
        ({"birth_date": "02/03/1984"}, "birth_date"),
        ({"sex": "robot"}, "sex"),
        ({"mrn": ""}, "mrn"),
        ({"weight_kg": "heavy"}, "weight_kg"),
        ({"given_name": ["a", "b"]}, "given_name"),
        ({"diagnoses": [{"code": "XYZ", "label": "?"}]}, "diagnoses[0].code"),
        ({"diagnoses": "G35"}, "diagnoses"),
    ],
)
def test_bad_fields_are_422_with_the_field_named(api, change, field) -> None:
    response = api("POST", "/api/v1/patients", json={**VALID, **change})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert count(Patient) == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'])
def test_malformed_json_is_400(api, body) -> None:
    response = api("POST", "/api/v1/patients", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_viewer_and_nurse_may_not_create(api) -> None:
    for role in ("viewer", "nurse"):
        assert api("POST", "/api/v1/patients", role=role, json=VALID).status_code == 403
    assert count(Patient) == 0


def test_patch_measures(api) -> None:
    created = api("POST", "/api/v1/patients", json=VALID).get_json()
    response = api("PATCH", f"/api/v1/patients/{created['id']}", json={"weight_kg": 66})
    assert response.status_code == 200
    assert response.get_json()["weight_kg"] == 66 and response.get_json()["changed"] == ["weight_kg"]
    bad = api("PATCH", f"/api/v1/patients/{created['id']}", json={"height_cm": 10})
    assert bad.status_code == 422
    unknown = api("PATCH", f"/api/v1/patients/{created['id']}", json={"id": 5})
    assert unknown.status_code == 422


def test_unknown_patient_is_404(api) -> None:
    response = api("GET", "/api/v1/patients/424242")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
