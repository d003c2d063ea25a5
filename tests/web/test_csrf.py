"""CSRF: every state-changing HTML rule refuses a post without its token (400, no write).

The suite's app runs with CSRF off; these tests build a second app with it
on, bound to the same database (and the test's transaction), as production
runs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from clinic.auth.models import SignInAttempt
from clinic.extensions import db
from clinic.scheduling.models import Chair, Closure
from tests.conftest import RequestScopedClient, make_app
from tests.web.test_role_matrix import MISSING_ID, rule_methods

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: what the forms ask for, so that a missing CSRF check would let the post through
PLAUSIBLE_FORM = {
    "status": "cancelled", "reason": "no token", "direction": "up", "confirm": "yes", "label": "Chair X",
    "kind": "chair", "day": "2031-01-06", "username": "admin1", "password": "correct horse",
}
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(scope="module")
def csrf_app(app: Flask) -> Iterator[Flask]:
    """The same database with CSRF protection on."""
    protected = make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    protected.test_client_class = RequestScopedClient
    yield protected
    with protected.app_context():
        db.engine.dispose()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, "no csrf_token field on the page"
    return match.group(1)


@pytest.fixture
def admin_client(csrf_app: Flask, session, users) -> FlaskClient:
    client = csrf_app.test_client()
    data = {"username": "admin1", "password": "correct horse", "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data).status_code == 302
    return client


@pytest.fixture
def rows(session) -> dict[str, int]:
    """Real ids for the URL arguments, so a missing check would really write."""
    from tests.factories import make_appointment, make_site

    site = make_site()
    chair = session.scalars(sa.select(Chair).where(Chair.site_id == site.id)).first()
    closure = Closure(site_id=site.id, day=date.today() + timedelta(days=30), reason="Staff day")
    session.add(closure)
    start = (datetime.now() + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    appointment = make_appointment(site, start, chair=chair)
    session.flush()
    return {"site_id": site.id, "chair_id": chair.id, "closure_id": closure.id,
            "patient_id": appointment.patient_id, "appointment_id": appointment.id}


def real_url(app: Flask, rule: Rule, ids: dict[str, int]) -> str:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        values[name] = ids.get(name, MISSING_ID if name.endswith("_id") else "first_infusion")
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, method="POST")


def snapshot(session) -> dict[str, Any]:
    """Return every table's rows (user_session: its count; last_seen may move)."""
    state: dict[str, Any] = {}
    for table in db.metadata.sorted_tables:
        if table.name == "user_session":
            state[table.name] = session.scalar(sa.select(sa.func.count()).select_from(table))
        else:
            state[table.name] = sorted(repr(tuple(row)) for row in session.execute(sa.select(table)))
    return state


def html_state_changing_rules(app: Flask) -> list[tuple[Rule, str]]:
    return [(rule, method) for rule, method in rule_methods(app)
            if method in STATE_CHANGING and not rule.rule.startswith("/api/")]


def test_every_state_changing_html_rule_needs_the_token(csrf_app, admin_client, rows, session) -> None:
    before = snapshot(session)
    checked = []
    for rule, method in html_state_changing_rules(csrf_app):
        url = real_url(csrf_app, rule, rows)
        response = admin_client.open(url, method=method, data=PLAUSIBLE_FORM)
        assert response.status_code == 400, (method, url, response.status_code)
        assert "security token" in response.get_data(as_text=True), url
        checked.append(rule.endpoint)
    assert {"auth.logout", "auth.login", "admin.deactivate_chair_page", "appointments.status"} <= set(checked)
    assert len(checked) >= 30
    assert snapshot(session) == before
    assert admin_client.get("/").status_code == 200  # still signed in: the sign-out post was refused


def test_a_wrong_token_is_refused_too(csrf_app, admin_client, rows, session) -> None:
    before = snapshot(session)
    response = admin_client.post(f"/admin/chairs/{rows['chair_id']}/deactivate", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert snapshot(session) == before


def test_the_sign_in_form_needs_the_token(csrf_app, session, users) -> None:
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "admin1", "password": "correct horse"})
    assert response.status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(SignInAttempt)) == 0
    assert client.get("/").status_code == 302


def test_with_the_token_the_same_posts_work(csrf_app, admin_client, rows, session) -> None:
    token = csrf_token(admin_client, f"/admin/sites/{rows['site_id']}/chairs")
    response = admin_client.post(f"/admin/chairs/{rows['chair_id']}/move", data={"direction": "down", "csrf_token": token})
    assert response.status_code == 302
    assert admin_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert admin_client.get("/").status_code == 302


def test_the_api_takes_tokens_not_csrf(csrf_app, session, users) -> None:
    from clinic.auth.services import issue_token

    client = csrf_app.test_client()
    bearer = {"Authorization": f"Bearer {issue_token(users['scheduler'])}"}
    response = client.post("/api/v1/patients", json={}, headers=bearer)
    assert response.status_code == 422
