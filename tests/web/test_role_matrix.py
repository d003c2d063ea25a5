"""Every URL rule × method × role (and anonymous) against the expected matrix.

The matrix below is written from API.md's roles, not derived from the code:
every signed-in role reads everything (the audit trail: admin only); admin
writes everything; scheduler patients, diagnoses, series and appointments
(book, move, cancel); nurse screenings, observations and appointment status;
viewer nothing. A rule the matrix does not list fails the walk, so a new
route must be added here with the roles API.md gives it.

Outcomes: "allowed" (authorisation passed: any answer but 401, 403 or a
redirect to sign-in — a 404 for the sample ids or a 400/422 for the empty
body counts), "403", "sign-in" (HTML, anonymous) and "401" (API, anonymous).
The sample ids do not exist and the bodies are empty, so nothing is written.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, PathConverter, Rule

from clinic.auth.services import issue_token
from tests.conftest import sign_in

ROLES = ("admin", "scheduler", "nurse", "viewer")
ANONYMOUS = "anonymous"

# Who may: role names separated by spaces; "anonymous" marks a public rule.
PUBLIC = "anonymous admin scheduler nurse viewer"
EVERYONE = "admin scheduler nurse viewer"
ADMIN = "admin"
SCHEDULING = "admin scheduler"  # patients, diagnoses, series, appointments
NURSING = "admin nurse"  # screenings, observations
STATUS = "admin scheduler nurse"  # appointment status (nurse: only nurse statuses)
# The front desk (scheduler) checks patients in and acknowledges flags: see
# clinic/monitoring/record_views.py (CHECKERS_IN, ACKNOWLEDGERS) and docs/security.md.
FRONT_DESK = "admin scheduler nurse"

EXPECTED: dict[str, dict[str, str]] = {
    "static": {"GET": PUBLIC},
    "auth.login": {"GET": PUBLIC, "POST": PUBLIC},
    "auth.logout": {"POST": EVERYONE},
    "main.home": {"GET": EVERYONE},
    # patients
    "patients.index": {"GET": EVERYONE},
    "patients.detail": {"GET": EVERYONE},
    "patients.create": {"GET": SCHEDULING, "POST": SCHEDULING},
    "patients.edit": {"GET": SCHEDULING, "POST": SCHEDULING},
    "patients.add_diagnosis_page": {"GET": SCHEDULING, "POST": SCHEDULING},
    "patients.add_screening": {"GET": NURSING, "POST": NURSING},
    # protocols
    "protocols.index": {"GET": EVERYONE},
    "protocols.detail": {"GET": EVERYONE},
    "protocols.edit": {"GET": ADMIN, "POST": ADMIN},
    # day schedule and flags
    "scheduling.day": {"GET": EVERYONE},
    "scheduling.print_day": {"GET": EVERYONE},
    "monitoring.flags": {"GET": EVERYONE},
    "monitoring.acknowledge_flag": {"POST": FRONT_DESK},
    "monitoring.clear_rechallenge_view": {"POST": ADMIN},
    # booking (series and single appointments)
    "booking.start": {"GET": SCHEDULING},
    "booking.protocol_step": {"GET": SCHEDULING},
    "booking.details": {"GET": SCHEDULING, "POST": SCHEDULING},
    "booking.confirm": {"POST": SCHEDULING},
    "booking.single": {"GET": SCHEDULING, "POST": SCHEDULING},
    # appointments and the nurse's record
    "appointments.detail": {"GET": EVERYONE},
    "appointments.move": {"POST": SCHEDULING},
    "appointments.given": {"POST": SCHEDULING},
    "appointments.status": {"POST": STATUS},
    "record.back_to_record": {"GET": EVERYONE},
    "record.check_in": {"POST": FRONT_DESK},
    "record.precheck": {"POST": NURSING},
    "record.start": {"POST": NURSING},
    "record.during": {"POST": NURSING},
    "record.end": {"POST": NURSING},
    "record.post_observation": {"POST": NURSING},
    "record.complete": {"POST": NURSING},
    "record.acknowledge": {"POST": FRONT_DESK},
    # site setup (admin pages: their reads exist only to change things)
    "admin.index": {"GET": ADMIN},
    "admin.create_site_page": {"GET": ADMIN, "POST": ADMIN},
    "admin.edit_site": {"GET": ADMIN, "POST": ADMIN},
    "admin.chairs": {"GET": ADMIN},
    "admin.add_chair_page": {"POST": ADMIN},
    "admin.edit_chair": {"GET": ADMIN, "POST": ADMIN},
    "admin.deactivate_chair_page": {"POST": ADMIN},
    "admin.reactivate_chair_page": {"POST": ADMIN},
    "admin.move_chair_page": {"POST": ADMIN},
    "admin.closures": {"GET": ADMIN},
    "admin.add_closure_page": {"POST": ADMIN},
    "admin.remove_closure_page": {"POST": ADMIN},
    "admin.load_holidays_page": {"POST": ADMIN},
    "admin.rebook_closure": {"GET": ADMIN, "POST": ADMIN},
    # the audit trail: admins only, reading too
    "audit.index": {"GET": ADMIN},
    "api.list_audit": {"GET": ADMIN},
    # JSON API v1
    "api.me": {"GET": EVERYONE},
    "api.openapi": {"GET": EVERYONE},
    "api.list_protocols": {"GET": EVERYONE},
    "api.get_protocol": {"GET": EVERYONE},
    "api.list_sites": {"GET": EVERYONE},
    "api.schedule": {"GET": EVERYONE},
    "api.list_flags": {"GET": EVERYONE},
    "api.create_patient_route": {"POST": SCHEDULING},
    "api.get_patient": {"GET": EVERYONE},
    "api.patch_patient": {"PATCH": SCHEDULING},
    "api.add_screening": {"POST": NURSING},
    "api.preview_series_route": {"POST": SCHEDULING},
    "api.book_series_route": {"POST": SCHEDULING},
    "api.get_series": {"GET": EVERYONE},
    "api.stop_series_route": {"POST": SCHEDULING},
    "api.book_appointment": {"POST": SCHEDULING},
    "api.get_appointment": {"GET": EVERYONE},
    "api.patch_appointment": {"PATCH": STATUS},
    "api.list_observations": {"GET": EVERYONE},
    "api.add_observation": {"POST": NURSING},
}

#: bodies that make the request the kind the matrix means (else: empty)
SAMPLE_JSON: dict[str, dict[str, Any]] = {
    # a status a nurse may set; other changes are checked in test_object_level_*
    "api.patch_appointment": {"status": "checked_in"},
}
MISSING_ID = 987654321


def sample_url(app: Flask, rule: Rule) -> str:
    """Build a URL for ``rule`` naming rows that do not exist."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = MISSING_ID
        elif isinstance(converter, PathConverter):
            values[name] = "no-such/thing"
        else:
            values[name] = "no-such-thing"
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, method=None)


def rule_methods(app: Flask) -> list[tuple[Rule, str]]:
    """Return every (rule, method) the app answers, HEAD and OPTIONS aside."""
    pairs = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            pairs.append((rule, method))
    return pairs


def expected_outcome(endpoint: str, method: str, who: str, api: bool) -> str:
    """Return the outcome class the matrix gives ``who`` for this rule."""
    if who in EXPECTED[endpoint][method].split():
        return "allowed"
    if who == ANONYMOUS:
        return "401" if api else "sign-in"
    return "403"


def outcome(response: Any) -> str:
    """Return the outcome class of a response."""
    if response.status_code in (401, 403):
        return str(response.status_code)
    if response.status_code in (301, 302, 303, 307, 308):
        # the sign-in gate always names the page asked for (a sign-out lands on plain /login)
        if response.headers.get("Location", "").startswith("/login?next="):
            return "sign-in"
    return "allowed"


def test_matrix_lists_every_rule_and_nothing_else(app: Flask) -> None:
    served = {(rule.endpoint, method) for rule, method in rule_methods(app)}
    listed = {(endpoint, method) for endpoint, methods in EXPECTED.items() for method in methods}
    assert not served - listed, f"add these rules to EXPECTED: {sorted(served - listed)}"
    assert not listed - served, f"EXPECTED lists rules the app no longer has: {sorted(listed - served)}"


def _request(client: FlaskClient, rule: Rule, method: str, url: str, token: str | None) -> Any:
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = SAMPLE_JSON.get(rule.endpoint, {}) if method != "GET" else None
        return client.open(url, method=method, json=body, headers=headers)
    return client.open(url, method=method, data={} if method != "GET" else None)


@pytest.mark.parametrize("who", [ANONYMOUS, *ROLES])
def test_every_rule_answers_each_role_as_the_matrix_says(app: Flask, client: FlaskClient, users, who: str) -> None:
    token = None
    if who != ANONYMOUS:
        token = issue_token(users[who])
        assert sign_in(client, users[who].username).status_code == 302
    mismatches = []
    checked = 0
    for rule, method in rule_methods(app):
        if rule.endpoint not in EXPECTED:
            continue  # reported by test_matrix_lists_every_rule_and_nothing_else
        url = sample_url(app, rule)
        response = _request(client, rule, method, url, token)
        response.close()
        got = outcome(response)
        wanted = expected_outcome(rule.endpoint, method, who, url.startswith("/api/"))
        if got != wanted:
            mismatches.append(f"{method} {url} ({rule.endpoint}): {who} got {got} ({response.status_code}), want {wanted}")
        if rule.endpoint == "auth.logout" and who != ANONYMOUS:
            assert sign_in(client, users[who].username).status_code == 302
        checked += 1
    assert checked >= 70
    assert not mismatches, "\n".join(mismatches)


# Object-level checks: the role may use the rule, but not for every change.

@pytest.fixture
def appointment(session) -> Any:
    from datetime import datetime, timedelta

    from tests.factories import make_appointment, make_site

    site = make_site()
    start = (datetime.now() + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    return make_appointment(site, start)


@pytest.mark.parametrize(("role", "status", "want"), [
    ("nurse", "cancelled", "403"),
    ("nurse", "held", "403"),
    ("nurse", "scheduled", "403"),
    ("nurse", "checked_in", "allowed"),
    ("viewer", "checked_in", "403"),
    ("scheduler", "cancelled", "allowed"),
])
def test_html_status_change_is_limited_by_role(client, users, session, appointment, role, status, want) -> None:
    assert sign_in(client, users[role].username).status_code == 302
    response = client.post(f"/appointments/{appointment.id}/status", data={"status": status, "reason": "test"})
    assert outcome(response) == want, response.status_code
    if want == "403":
        session.refresh(appointment)
        assert appointment.status == "scheduled"


@pytest.mark.parametrize(("role", "body", "want"), [
    ("nurse", {"status": "cancelled", "reason": "test"}, "403"),
    ("nurse", {"start": "2031-01-06T10:00:00+01:00"}, "403"),
    ("nurse", {"status": "checked_in", "chair_id": 1}, "403"),
    ("nurse", {"status": "checked_in"}, "allowed"),
    ("viewer", {"status": "checked_in"}, "403"),
    ("scheduler", {"status": "cancelled", "reason": "test"}, "allowed"),
])
def test_api_appointment_change_is_limited_by_role(client, users, session, appointment, role, body, want) -> None:
    token = issue_token(users[role])
    response = client.patch(f"/api/v1/appointments/{appointment.id}", json=body,
                            headers={"Authorization": f"Bearer {token}"})
    assert outcome(response) == want, (response.status_code, response.get_json())
    if want == "403":
        assert response.get_json()["error"]["code"] == "forbidden"
        session.refresh(appointment)
        assert appointment.status == "scheduled"
