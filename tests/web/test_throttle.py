"""Sign-in throttling: 5 failures per username or per address within 15 minutes → 429."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from clinic.auth.models import SignInAttempt
from tests.web.test_sessions import FakeClock

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
RIGHT = "correct horse"
WRONG = "not the password"


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(START)
    monkeypatch.setitem(app.config, "CLOCK", fake)
    return fake


def attempt(client: FlaskClient, username: str, password: str = WRONG, address: str = "10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def fail_five_times(client: FlaskClient, usernames: list[str], addresses: list[str]) -> None:
    for username, address in zip(usernames, addresses, strict=True):
        assert attempt(client, username, address=address).status_code == 401


def assert_throttled(response, seconds: int) -> None:
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(seconds)
    minutes = -(-seconds // 60)
    unit = "minute" if minutes == 1 else "minutes"
    assert f"Too many failed sign-in attempts. Try again in {minutes} {unit}." in response.get_data(as_text=True)


def test_five_failures_for_a_username_from_anywhere_lock_that_username(client, users, clock) -> None:
    fail_five_times(client, ["nurse1", "Nurse1", "NURSE1 ", "nurse1", "nurse1"],
                    [f"10.0.1.{n}" for n in range(5)])
    clock.advance(minutes=1)
    # the right password from a fresh address is refused unchecked
    assert_throttled(attempt(client, "nurse1", RIGHT, "10.0.9.9"), 14 * 60)
    assert client.get("/").status_code == 302
    # other users are not affected
    assert attempt(client, "viewer1", RIGHT, "10.0.9.9").status_code == 302


def test_five_failures_from_an_address_lock_that_address(client, users, clock) -> None:
    fail_five_times(client, ["a", "b", "c", "d", "nurse1"], ["10.0.2.1"] * 5)
    assert_throttled(attempt(client, "viewer1", RIGHT, "10.0.2.1"), 15 * 60)
    assert attempt(client, "viewer1", RIGHT, "10.0.2.2").status_code == 302


def test_four_failures_are_not_enough(client, users, clock) -> None:
    for address in ("10.0.3.1", "10.0.3.2", "10.0.3.3", "10.0.3.4"):
        assert attempt(client, "nurse1", address=address).status_code == 401
    assert attempt(client, "nurse1", RIGHT, "10.0.3.5").status_code == 302


def test_the_window_edge(client, users, clock) -> None:
    fail_five_times(client, ["nurse1"] * 5, ["10.0.4.1"] * 5)
    clock.advance(minutes=10)
    assert_throttled(attempt(client, "nurse1", RIGHT, "10.0.4.1"), 5 * 60)  # refused: not recorded
    clock.advance(minutes=4, seconds=59)
    assert_throttled(attempt(client, "nurse1", RIGHT, "10.0.4.1"), 1)
    clock.advance(seconds=2)  # 15:01 after the failures
    assert attempt(client, "nurse1", RIGHT, "10.0.4.1").status_code == 302


def test_failures_spread_beyond_the_window_do_not_add_up(client, users, clock) -> None:
    for _ in range(4):
        assert attempt(client, "nurse1").status_code == 401
    clock.advance(minutes=15, seconds=1)
    assert attempt(client, "nurse1").status_code == 401  # one failure inside the window
    assert attempt(client, "nurse1", RIGHT).status_code == 302


def test_unknown_and_known_users_get_the_same_answer(client, users, clock) -> None:
    fail_five_times(client, ["nurse1"] * 5, [f"10.0.5.{n}" for n in range(5)])
    fail_five_times(client, ["nobody-here"] * 5, [f"10.0.6.{n}" for n in range(5)])
    known = attempt(client, "nurse1", WRONG, "10.0.7.1")
    unknown = attempt(client, "nobody-here", WRONG, "10.0.7.2")
    assert_throttled(known, 15 * 60)
    assert_throttled(unknown, 15 * 60)
    body = known.get_data(as_text=True).replace("nurse1", "NAME")
    assert body == unknown.get_data(as_text=True).replace("nobody-here", "NAME")


def test_successful_sign_ins_do_not_count(client, users, clock) -> None:
    for _ in range(6):
        assert attempt(client, "viewer1", RIGHT).status_code == 302
        client.post("/logout")
    assert attempt(client, "viewer1", RIGHT).status_code == 302


def test_attempts_are_recorded_lower_cased_with_address_and_outcome(client, users, clock, session) -> None:
    attempt(client, " Nurse1 ", WRONG, "192.0.2.7")
    attempt(client, "NURSE1", RIGHT, "192.0.2.7")
    rows = session.scalars(sa.select(SignInAttempt).order_by(SignInAttempt.id)).all()
    assert [(r.username, r.address, r.success, r.at) for r in rows] == [
        ("nurse1", "192.0.2.7", False, START), ("nurse1", "192.0.2.7", True, START),
    ]


def test_an_incomplete_form_is_not_an_attempt(client, users, clock, session) -> None:
    for _ in range(6):
        assert client.post("/login", data={"username": "nurse1"}).status_code == 200
    assert session.scalar(sa.select(sa.func.count()).select_from(SignInAttempt)) == 0


def test_the_limits_are_configurable(app, client, users, clock, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "SIGN_IN_MAX_FAILURES", 2)
    monkeypatch.setitem(app.config, "SIGN_IN_WINDOW_MINUTES", 1)
    assert attempt(client, "nurse1", address="10.0.8.1").status_code == 401
    assert attempt(client, "nurse1", address="10.0.8.1").status_code == 401
    assert_throttled(attempt(client, "nurse1", RIGHT, "10.0.8.1"), 60)
    clock.advance(seconds=61)
    assert attempt(client, "nurse1", RIGHT, "10.0.8.1").status_code == 302


@pytest.mark.parametrize("path", ["/nowhere", "/api/v1/nowhere"])
def test_any_429_keeps_its_retry_after(path: str) -> None:
    from werkzeug.exceptions import TooManyRequests

    from clinic.extensions import db
    from tests.conftest import make_app

    fresh = make_app("sqlite://")

    @fresh.before_request
    def _refuse() -> None:
        raise TooManyRequests(retry_after=30)

    try:
        response = fresh.test_client().get(path)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "30"
    finally:
        with fresh.app_context():
            db.engine.dispose()
