"""Security headers on every response; templates stay within the CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from clinic.auth.services import issue_token
from tests.conftest import sign_in
from tests.web.test_role_matrix import rule_methods, sample_url

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
EVERY_RESPONSE = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def assert_secure_headers(response, *, static: bool = False) -> None:
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (name, response.request.path)
    cache = response.headers.get("Cache-Control", "")
    if static:
        assert "no-store" not in cache
    else:
        assert cache == "no-store", response.request.path
    assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP


@pytest.mark.parametrize("who", ["anonymous", "admin", "viewer"])
def test_every_get_rule_answers_with_the_headers(app: Flask, client, users, who: str) -> None:
    token = None
    if who != "anonymous":
        token = issue_token(users[who])
        sign_in(client, users[who].username)
    checked = 0
    for rule, method in rule_methods(app):
        if method != "GET":
            continue
        url = sample_url(app, rule)
        headers = {"Authorization": f"Bearer {token}"} if token and url.startswith("/api/") else {}
        response = client.get(url, headers=headers)
        response.close()
        assert_secure_headers(response, static=rule.endpoint == "static")
        checked += 1
    assert checked >= 30


def test_pages_errors_api_and_static_files(client, users) -> None:
    token = issue_token(users["viewer"])
    assert_secure_headers(client.get("/login"))
    assert_secure_headers(client.post("/login", data={"username": "viewer1", "password": "wrong"}))
    sign_in(client, "viewer1")
    for path, status in (("/", 200), ("/patients/", 200), ("/admin/", 403), ("/no/such/page", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert_secure_headers(response)
    assert_secure_headers(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}))
    assert_secure_headers(client.get("/api/v1/me"))  # 401
    static = client.get("/static/css/app.css")
    static.close()
    assert static.status_code == 200
    assert_secure_headers(static, static=True)


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE = {
    "inline <script> block": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "<style> block": re.compile(r"<style[\s>]", re.I),
    "style= attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "on…= event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("kind", sorted(INLINE))
def test_templates_have_nothing_inline_the_policy_would_block(kind: str) -> None:
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in sorted(TEMPLATES.rglob("*.html"))
        if INLINE[kind].search(path.read_text())
    ]
    assert len(list(TEMPLATES.rglob("*.html"))) > 10
    assert offenders == [], f"{kind} in {offenders}: move it to clinic/static (CSP has no 'unsafe-inline')"
