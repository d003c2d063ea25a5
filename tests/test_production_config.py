"""Production refuses unsafe settings and turns on Secure cookies and HSTS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from clinic.extensions import db
from config import DEV_SECRET_KEY
from tests.conftest import make_app

GOOD_SECRET = "k" * 32


def production(**extra: Any) -> Flask:
    return make_app("sqlite://", CLINIC_ENV="production", **{"SECRET_KEY": GOOD_SECRET, **extra})


@pytest.fixture
def production_app() -> Iterator[Flask]:
    app = production(WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("secret", [DEV_SECRET_KEY, "", None, "k" * 31])
def test_refuses_a_default_empty_or_short_secret(secret: Any) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        production(SECRET_KEY=secret)


def test_refuses_debug() -> None:
    with pytest.raises(RuntimeError, match="debug"):
        production(DEBUG=True)


@pytest.mark.parametrize("environment", ["prod", "Production", ""])
def test_refuses_an_unknown_environment(environment: str) -> None:
    with pytest.raises(RuntimeError, match="CLINIC_ENV"):
        make_app("sqlite://", CLINIC_ENV=environment)


def test_development_allows_the_default_secret() -> None:
    app = make_app("sqlite://", CLINIC_ENV="development", SECRET_KEY=DEV_SECRET_KEY)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    with app.app_context():
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_lax(production_app: Flask) -> None:
    response = production_app.test_client().get("/login")  # stores the CSRF token: sets the cookie
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie


def test_production_sends_hsts(production_app: Flask) -> None:
    response = production_app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["Cache-Control"] == "no-store"


def test_trusted_proxy_count_sets_the_client_address() -> None:
    app = production(TRUSTED_PROXIES=1)
    seen: list[str | None] = []

    @app.before_request
    def _remember() -> None:
        from flask import request

        seen.append(request.remote_addr)

    app.test_client().get("/login", headers={"X-Forwarded-For": "203.0.113.9"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen == ["203.0.113.9"]
    with app.app_context():
        db.engine.dispose()


def test_without_trusted_proxies_forwarded_headers_are_ignored() -> None:
    app = make_app("sqlite://")
    seen: list[str | None] = []

    @app.before_request
    def _remember() -> None:
        from flask import request

        seen.append(request.remote_addr)

    app.test_client().get("/login", headers={"X-Forwarded-For": "203.0.113.9"},
                          environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert seen == ["198.51.100.4"]
    with app.app_context():
        db.engine.dispose()


# No patient data in logs: the code logs no names, and SQL errors hide row values.

LOG_CALL = re.compile(r"(logger|logging)\.(debug|info|warning|error|exception|critical)\((.*)", re.I)
PATIENT_FIELDS = ("given_name", "family_name", "mrn", "birth_date", "full_name", "display_name", "name", "phone")


def test_log_calls_name_no_patient_fields(repo_root: Path) -> None:
    offenders = []
    for path in sorted((repo_root / "clinic").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = LOG_CALL.search(line)
            if match and any(field in match.group(3) for field in PATIENT_FIELDS):
                offenders.append(f"{path.relative_to(repo_root)}:{number}: {line.strip()}")
    assert offenders == []


def test_sql_errors_do_not_carry_row_values() -> None:
    app = make_app("sqlite://")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    with app.app_context():
        assert db.engine.hide_parameters is True
        db.engine.dispose()
