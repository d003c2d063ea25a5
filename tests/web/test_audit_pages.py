"""The audit page (/admin/audit/) and GET /api/v1/audit: admins only, filters, pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clinic.auth.services import issue_token
from tests.factories import make_appointment, make_patient, make_site


@pytest.fixture
def trail(session, users) -> dict[str, Any]:
    """Two patients, one with an appointment and a later weight change, committed."""
    site = make_site(chairs=1, beds=0)
    first, second = make_patient(mrn="AUD-A"), make_patient(mrn="AUD-B")
    appointment = make_appointment(site, datetime(2027, 1, 4, 9), patient=first)
    session.commit()
    first.weight_kg = 71.5
    session.commit()
    return {"first": first, "second": second, "appointment": appointment, "site": site}


@pytest.fixture
def api(client, users):
    def call(url: str, role: str = "admin"):
        token = issue_token(users[role])
        return client.get(url, headers={"Authorization": f"Bearer {token}"})

    return call


SIGN_IN = '<td class="action">sign in</td>'
CREATE = '<td class="action">create</td>'


def page(client, **args: Any) -> str:
    response = client.get("/admin/audit/", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["scheduler", "nurse", "viewer"])
def test_only_admins_see_the_page(signed_in, role: str) -> None:
    assert signed_in(role).get("/admin/audit/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client) -> None:
    response = client.get("/admin/audit/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_page_shows_events_newest_first_with_both_times(signed_in, trail) -> None:
    text = page(signed_in("admin"))
    assert "Audit trail" in text and SIGN_IN in text
    assert text.index("weight_kg</span>: 70.0 → 71.5") < text.index("mrn</span>: AUD-A")  # update above create
    assert " UTC</time>" in text and "site time" in text


def test_filter_by_patient_id_or_mrn(signed_in, trail) -> None:
    client = signed_in("admin")
    first, second = trail["first"], trail["second"]
    for value in (str(first.id), "aud-a"):
        text = page(client, patient=value)
        assert f"patient #{first.id}<" in text and f"appointment #{trail['appointment'].id}<" in text
        assert f"patient #{second.id}<" not in text and SIGN_IN not in text
    assert "No patient with this id or MRN." in page(client, patient="NOPE-1")


def test_patient_filter_finds_rows_deleted_since(signed_in, trail, session) -> None:
    diagnosis = trail["first"].diagnoses[0]
    session.delete(diagnosis)
    session.commit()
    text = page(signed_in("admin"), patient=trail["first"].id, entity="diagnosis")
    assert text.count(f"diagnosis #{diagnosis.id}<") == 2  # created, then deleted


def test_filter_by_user_action_entity_and_days(signed_in, trail) -> None:
    client = signed_in("admin")
    text = page(client, user="ADMIN1")
    assert SIGN_IN in text and CREATE not in text
    text = page(client, action="update", entity="patient")
    assert "71.5" in text and SIGN_IN not in text and "appointment #" not in text
    assert "No audit event matches" in page(client, date_from="2999-01-01")
    assert SIGN_IN in page(client, date_from="2000-01-01", date_to="2999-12-31")
    text = page(client, date_from="2027-02-01", date_to="2027-01-01")
    assert "The last day comes before the first." in text


def test_pages_keep_the_filters(signed_in, trail, app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "AUDIT_PER_PAGE", 2)
    client = signed_in("admin")
    text = page(client, entity="patient")
    assert "Page 1 of 2" in text and "entity=patient" in text
    assert "Page 2 of 2" in page(client, entity="patient", page=2)


def test_api_lists_events_newest_first(api, trail) -> None:
    response = api("/api/v1/audit")
    assert response.status_code == 200
    body = response.get_json()
    ids = [event["id"] for event in body]
    assert ids == sorted(ids, reverse=True)
    assert set(body[0]) >= {"id", "at", "user", "action", "entity", "entity_id", "changes", "outcome"}
    at = datetime.fromisoformat(body[0]["at"])
    assert at.utcoffset() == at.astimezone(ZoneInfo("Europe/Berlin")).utcoffset()  # the site's local time
    first = trail["first"]
    mine = api(f"/api/v1/audit?entity=patient&entity_id={first.id}").get_json()
    assert [(e["action"], e["changes"].get("weight_kg")) for e in mine] == [("update", [70.0, 71.5]), ("create", 70.0)]


def test_api_filters_by_user_and_since(api, trail) -> None:
    api("/api/v1/me", role="viewer")
    assert api("/api/v1/audit?user=admin1").get_json() == []
    assert api("/api/v1/audit?since=2999-01-01").get_json() == []
    assert len(api("/api/v1/audit?since=2000-01-01T00:00:00%2B00:00").get_json()) >= 4


BAD_QUERIES = [
    "since=yesterday", "since=2027-01-04T09:00", "since=0001-01-01T00:00:00%2B14:00", "limit=0", "limit=%C2%B2",
    "entity_id=" + "9" * 41,
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_api_bad_parameters_are_422(api, query: str) -> None:
    response = api(f"/api/v1/audit?{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


def test_nul_in_a_query_is_refused_before_any_query(api) -> None:
    response = api("/api/v1/audit?user=a%00b")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("role", ["scheduler", "nurse", "viewer"])
def test_api_is_admin_only(api, role: str) -> None:
    assert api("/api/v1/audit", role=role).status_code == 403


def test_odd_filters_answer_with_messages_not_errors(signed_in, trail) -> None:
    client = signed_in("admin")
    assert "Choose a day from 1900 to 9998." in page(client, date_from="0001-01-01")
    assert "No patient with this id or MRN." in page(client, patient="9" * 30)
    assert client.get("/admin/audit/", query_string={"user": "a\x00b"}).status_code == 400  # refused up front
    assert "No audit event matches" in page(client, page=10**30)
