"""Protocol catalog in the database: sync, versions, pages, API, CLI."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from clinic.auth.services import issue_token
from clinic.domain.regimens import load_catalog
from clinic.extensions import db
from clinic.protocols.forms import rules_toml
from clinic.protocols.models import Protocol
from clinic.protocols.services import current_protocol, sync_catalog
from tests.conftest import count

CODES = [entry["code"] for entry in load_catalog()]
PLAN_FIELDS = {
    "number", "phase", "target_date", "earliest", "latest", "amount", "unit",
    "infusion_minutes", "observation_minutes",
}


@pytest.fixture
def catalog(session):
    sync_catalog()


def test_sync_loads_19_and_is_idempotent(catalog) -> None:
    assert count(Protocol) == 19 and len(CODES) == 19
    result = sync_catalog()
    assert result.created == [] and result.updated == [] and len(result.unchanged) == 19
    assert count(Protocol) == 19


def test_changed_entry_becomes_a_new_version(catalog) -> None:
    entries = load_catalog()
    entries[0]["premedication"] = "Changed for the test."
    result = sync_catalog(entries)
    assert result.updated == [entries[0]["code"]]
    versions = list(db.session.scalars(sa.select(Protocol).where(Protocol.code == entries[0]["code"]).order_by(Protocol.version)))
    assert [(v.version, v.current) for v in versions] == [(1, False), (2, True)]
    assert versions[0].definition["premedication"] != "Changed for the test."


def test_protocol_pages(catalog, signed_in) -> None:
    client = signed_in("viewer")
    index = client.get("/protocols/").get_data(as_text=True)
    for heading in ("Multiple sclerosis", "Rheumatoid arthritis", "Myasthenia gravis", "CIDP"):
        assert heading in index
    page = client.get("/protocols/ocrelizumab-ms").get_data(as_text=True)
    assert "300 mg on days 0 and 14" in page and "then 600 mg every 24 weeks" in page
    assert "Methylprednisolone 100 mg" in page and "HBV" in page
    assert "Sample 12-month timeline" in page and "600 mg" in page
    assert client.get("/protocols/no-such-code").status_code == 404


@pytest.mark.parametrize("code", CODES)
def test_every_protocol_page_renders(catalog, signed_in, code) -> None:
    response = signed_in("viewer").get(f"/protocols/{code}")
    assert response.status_code == 200
    assert "Sample 12-month timeline" in response.get_data(as_text=True)


def test_admin_edit_makes_a_new_version(catalog, signed_in) -> None:
    client = signed_in("admin")
    protocol = current_protocol("natalizumab-ms")
    form = {
        "name": protocol.name,
        "premedication": "Paracetamol on request.",
        "observation_text": protocol.definition["observation_text"],
        "reaction_notes": "r", "infection_notes": "i", "notes": "n",
        "rules": rules_toml(protocol.definition),
    }
    response = client.post("/protocols/natalizumab-ms/edit", data=form)
    assert response.status_code == 302
    current = current_protocol("natalizumab-ms")
    assert current.version == 2 and current.definition["premedication"] == "Paracetamol on request."
    assert current.definition["regimen"] == protocol.definition["regimen"]


@pytest.mark.parametrize(
    "rules,message",
    [
        ("regimen = [", "Not valid TOML"),
        ("[other]\nx = 1\n[regimen]\n", "Only regimen"),
        ("[monitoring]\n", "A [regimen] table is required"),
        ('[regimen]\ninfusion_minutes = 60\ncourses = [{ phase = "x", start_day = 0 }]\n', "cannot be planned"),
    ],
)
def test_admin_edit_rejects_bad_rules(catalog, signed_in, rules, message) -> None:
    client = signed_in("admin")
    response = client.post("/protocols/natalizumab-ms/edit", data={"name": "N", "rules": rules})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert current_protocol("natalizumab-ms").version == 1


def test_only_admins_edit(catalog, signed_in) -> None:
    assert signed_in("scheduler").get("/protocols/natalizumab-ms/edit").status_code == 403


def test_api_protocols(catalog, client, users) -> None:
    headers = {"Authorization": f"Bearer {issue_token(users['viewer'])}"}
    listed = client.get("/api/v1/protocols", headers=headers).get_json()
    assert len(listed) == 19
    assert set(listed[0]) >= {"code", "version", "name", "drug", "indication", "summary"}
    one = client.get("/api/v1/protocols/rituximab-ra", headers=headers).get_json()
    assert one["drug"] == "rituximab" and "regimen" in one and one["screenings"]
    missing = client.get("/api/v1/protocols/nope", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("code", CODES)
def test_cli_plan_json_for_every_code(app, catalog, code) -> None:
    result = app.test_cli_runner().invoke(
        args=["protocols", "plan", code, "--start", "2027-01-04", "--weight", "70", "--height", "175", "--doses", "6", "--json"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert 1 <= len(plan) <= 6
    assert all(set(item) == PLAN_FIELDS for item in plan)
    assert plan[0]["number"] == 1 and plan[0]["target_date"] == "2027-01-04"


def test_cli_finite_regimen_prints_only_its_own_doses(app, catalog) -> None:
    result = app.test_cli_runner().invoke(
        args=["protocols", "plan", "rituximab-aav-induction", "--start", "2027-01-04",
              "--weight", "70", "--height", "175", "--doses", "40", "--json"]
    )
    plan = json.loads(result.output)
    assert [p["target_date"] for p in plan] == ["2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25"]
    assert {p["amount"] for p in plan} == {692}


def test_cli_plan_text(app, catalog) -> None:
    result = app.test_cli_runner().invoke(args=["protocols", "plan", "natalizumab-ms", "--start", "2027-01-04", "--doses", "3"])
    assert result.exit_code == 0
    assert "2027-02-01" in result.output and "300 mg" in result.output


@pytest.mark.parametrize(
    "args,needle",
    [
        (["infliximab-ra", "--start", "2027-01-04"], "weight_kg is required"),
        (["rituximab-aav-induction", "--start", "2027-01-04", "--weight", "70"], "height_cm is required"),
        (["infliximab-ra", "--start", "2027-01-04", "--weight", "0.5"], "weight"),
        (["infliximab-ra", "--start", "2027-01-04", "--weight", "401"], "weight"),
        (["rituximab-aav-induction", "--start", "2027-01-04", "--weight", "70", "--height", "251"], "height"),
        (["rituximab-aav-induction", "--start", "2027-01-04", "--weight", "70", "--height", "29"], "height"),
        (["infliximab-ra", "--start", "2027-01-04", "--weight", "heavy"], "--weight must be a number"),
        (["no-such-protocol", "--start", "2027-01-04"], "unknown protocol code"),
        (["natalizumab-ms", "--start", "04/01/2027"], "--start must be a date"),
        (["natalizumab-ms", "--start", "2027-02-30"], "--start must be a date"),
    ],
)
def test_cli_plan_bad_input_exits_2(app, catalog, args, needle) -> None:
    result = app.test_cli_runner().invoke(args=["protocols", "plan", *args])
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output
