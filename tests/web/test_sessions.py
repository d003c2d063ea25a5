"""Server-side sessions: idle logoff, absolute limit, sign-out and deactivation end them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from clinic.auth.models import UserSession
from clinic.auth.services import deactivate_user, issue_token
from clinic.auth.sessions import SESSION_KEY
from tests.conftest import sign_in

START = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand (the app reads it through config["CLOCK"])."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(START)
    monkeypatch.setitem(app.config, "CLOCK", fake)
    return fake


def signed_in_as(client: FlaskClient, username: str) -> FlaskClient:
    assert sign_in(client, username).status_code == 302
    assert client.get("/").status_code == 200
    return client


def sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def session_key(client: FlaskClient) -> str:
    with client.session_transaction() as flask_session:
        return flask_session[SESSION_KEY]


def rows(session) -> list[UserSession]:
    return list(session.scalars(sa.select(UserSession).order_by(UserSession.id)))


def test_idle_logoff_after_15_minutes(client, users, clock, session) -> None:
    signed_in_as(client, "nurse1")
    clock.advance(minutes=14, seconds=59)
    assert client.get("/").status_code == 200  # activity: the idle time starts again
    clock.advance(minutes=14, seconds=59)
    assert client.get("/patients/").status_code == 200
    clock.advance(minutes=15, seconds=1)
    response = client.get("/patients/")
    assert sent_to_sign_in(response)
    page = client.get(response.headers["Location"])
    assert "signed out after 15 minutes without activity" in page.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert rows(session)[-1].ended_at == clock.now


def test_idle_limit_is_configurable(app, client, users, clock, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    signed_in_as(client, "viewer1")
    clock.advance(minutes=4, seconds=59)
    assert client.get("/").status_code == 200
    clock.advance(minutes=5, seconds=1)
    assert sent_to_sign_in(client.get("/"))


def test_absolute_limit_of_12_hours_even_when_active(client, users, clock) -> None:
    signed_in_as(client, "scheduler1")
    for _ in range(71):  # every 10 minutes up to 11:50
        clock.advance(minutes=10)
        assert client.get("/").status_code == 200
    clock.advance(minutes=9, seconds=59)
    assert client.get("/").status_code == 200  # 11:59:59
    clock.advance(seconds=2)
    response = client.get("/")
    assert sent_to_sign_in(response)
    page = client.get(response.headers["Location"])
    assert "12-hour limit" in page.get_data(as_text=True)


def test_last_seen_is_written_at_most_once_a_minute(client, users, clock, session) -> None:
    signed_in_as(client, "viewer1")
    clock.advance(seconds=30)
    client.get("/")
    assert rows(session)[-1].last_seen_at == START
    clock.advance(seconds=31)
    client.get("/")
    session.expire_all()
    assert rows(session)[-1].last_seen_at == START + timedelta(seconds=61)


def test_a_copied_cookie_stops_working_after_sign_out(app, client, users, clock) -> None:
    signed_in_as(client, "admin1")
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/patients/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert sent_to_sign_in(thief.get("/patients/"))
    assert sent_to_sign_in(client.get("/patients/"))


def test_sign_out_ends_the_session_row(client, users, clock, session) -> None:
    signed_in_as(client, "nurse1")
    clock.advance(minutes=3)
    client.post("/logout")
    session.expire_all()
    (row,) = rows(session)
    assert row.ended_at == START + timedelta(minutes=3)


def test_deactivating_a_user_ends_their_sessions_and_tokens(app, client, users, clock, session) -> None:
    signed_in_as(client, "nurse1")
    other = signed_in_as(app.test_client(), "nurse1")
    token = issue_token(users["nurse"])
    assert deactivate_user(users["nurse"], clock.now) == 2
    session.flush()
    assert sent_to_sign_in(client.get("/"))
    assert sent_to_sign_in(other.get("/"))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in(client, "nurse1").status_code == 401


def test_a_user_made_inactive_any_other_way_is_signed_out_too(client, users, clock, session) -> None:
    signed_in_as(client, "scheduler1")
    users["scheduler"].active = False
    session.flush()
    assert sent_to_sign_in(client.get("/"))
    session.expire_all()
    assert rows(session)[-1].ended_at == clock.now


def test_users_deactivate_command(app, users, clock, session) -> None:
    result = app.test_cli_runner().invoke(args=["users", "deactivate", "viewer1"])
    assert result.exit_code == 0, result.output
    assert "deactivated user viewer1" in result.output
    session.refresh(users["viewer"])
    assert users["viewer"].active is False
    missing = app.test_cli_runner().invoke(args=["users", "deactivate", "nobody"])
    assert missing.exit_code == 2


def test_each_sign_in_gets_a_new_random_key_stored_only_hashed(client, users, clock, session) -> None:
    signed_in_as(client, "viewer1")
    first = session_key(client)
    client.post("/logout")
    signed_in_as(client, "viewer1")
    second = session_key(client)
    assert first != second and len(first) >= 40
    stored = {row.key_hash for row in rows(session)}
    assert first not in stored and second not in stored and len(stored) == 2


def test_a_forged_or_unknown_key_is_refused(client, users, clock) -> None:
    signed_in_as(client, "admin1")
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = "not-a-key-the-server-issued"
    assert sent_to_sign_in(client.get("/"))


def test_session_cookie_is_httponly_lax_and_not_remembered(client, users) -> None:
    response = sign_in(client, "viewer1")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Expires=" not in session_cookie  # a browser-session cookie
    assert not any(c.startswith("remember_token=") for c in cookies)
    client.post("/logout")
    assert b"remember" not in client.get("/login").data.lower()


def test_cookie_lifetime_follows_the_absolute_limit(app: Flask) -> None:
    assert app.permanent_session_lifetime == timedelta(hours=app.config["SESSION_MAX_HOURS"]) == timedelta(hours=12)
    assert app.config["SESSION_IDLE_MINUTES"] == 15
