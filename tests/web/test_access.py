"""Every URL rule needs a signed-in user (walks app.url_map, not a hand list)."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import Rule

from clinic.auth.access import PUBLIC_ENDPOINTS

from werkzeug.routing import FloatConverter, IntegerConverter, PathConverter


def sample_value(converter: object) -> object:
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, FloatConverter):
        return 1.0
    if isinstance(converter, PathConverter):
        return "sample/x"
    return "sample"


def sample_url(app: Flask, rule: Rule) -> str:
    """Build a URL for ``rule`` with a sample value for each argument."""
    values = {name: sample_value(converter) for name, converter in rule._converters.items()}
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values)


def protected_rules(app: Flask) -> list[tuple[Rule, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append((rule, method))
    return rules


def test_every_rule_is_covered(app: Flask) -> None:
    # The walk below must actually see the app's pages and API.
    endpoints = {rule.endpoint for rule, _ in protected_rules(app)}
    assert {"main.home", "patients.index", "patients.detail", "auth.logout"} <= endpoints
    assert any(e.startswith("api.") for e in endpoints)


def test_anonymous_is_sent_to_sign_in(app: Flask, client) -> None:
    checked = 0
    for rule, method in protected_rules(app):
        url = sample_url(app, rule)
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url)
            assert response.is_json and "error" in response.get_json(), (method, url)
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/login"), (method, url)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("path", ["/login", "/static/css/app.css"])
def test_public_pages_are_reachable(client, path: str) -> None:
    response = client.get(path)
    response.close()  # static files stream from an open file
    assert response.status_code == 200


def test_only_sign_in_and_static_files_are_public() -> None:
    # Widening this set is a security decision: the role matrix must say so too.
    assert PUBLIC_ENDPOINTS == frozenset({"auth.login", "static"})
