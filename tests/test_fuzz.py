"""Fuzz every API endpoint and every HTML form with Hypothesis (issue 6, "Bad input").

Each test walks one route of ``app.url_map`` against a realistic clinic and
sends generated input as an admin (so authorisation passes): the answer is
never a 5xx, and every API rejection is ``{"error": {"code", "message",
"fields"}}`` with field problems for a 422. ``PROPAGATE_TEST_ERRORS`` stays on,
so a server error surfaces as its exception with a traceback and Hypothesis
shrinks the input that caused it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from clinic.api import bp as api_bp
from clinic.api.openapi import openapi_document
from clinic.auth.services import issue_token
from tests.conftest import make_app
from tests.fuzz.strategies import (
    ID_FIELDS,
    UNKNOWN_IDS,
    World,
    body_from,
    json_values,
    scalars,
    texts,
    to_json,
    valid,
)
from tests.fuzz.world import Route, api_routes, build_world, form_field_names, form_routes

_ROUTES_APP = make_app("sqlite://")  # only read for its url_map
API_ROUTES = api_routes(_ROUTES_APP)
FORM_ROUTES = form_routes(_ROUTES_APP)
#: generated submissions per route and backend; the SQLite run must total >= MINIMUM_TOTAL
BUDGETS = {"sqlite": {"api": 75, "form": 60}, "postgresql": {"api": 60, "form": 50}}
MINIMUM_TOTAL = 2000
SUBMITTED: Counter[str] = Counter()
FINISHED: Counter[str] = Counter()
RECORD_STEPS = ("check-in", "pre-check", "start", "during", "end", "post", "complete", "nope")
NOT_JSON = (b"", b"{", b'{"a":', b"[1,]", b"\xff\xfe", b"null", b"[" * 50_000 + b"]" * 50_000,
            b'{"a":' * 5000 + b"1" + b"}" * 5000, b"1" * 5000)


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def _properties(schema: dict[str, Any] | None, document: dict[str, Any]) -> list[str]:
    if not schema:
        return []
    if "$ref" in schema:
        return _properties(document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]], document)
    names = list(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names += _properties(part, document)
    return names


def documented_fields(route: Route) -> tuple[list[str], list[str]]:
    """Return (body fields, query parameters) the OpenAPI document gives a route (all known ones if none)."""
    document = openapi_document()
    template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", route.rule.removeprefix(api_bp.url_prefix or ""))
    operation = document["paths"].get(template, {}).get(route.method.lower())
    if operation is None:
        every = sorted({name for schema in document["components"]["schemas"].values()
                        for name in _properties(schema, document)})
        return every, ["site_id", "date", "entity", "entity_id", "user", "since"]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return _properties(schema, document), [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def path_values(name: str, world: World) -> st.SearchStrategy[Any]:
    """Real and unknown values for a URL argument."""
    if name in ID_FIELDS or name.endswith("_id"):
        return st.one_of(*[valid(name, world)] * 4, st.sampled_from(UNKNOWN_IDS))
    known = {"step": list(RECORD_STEPS), "code": world.codes, "flag_key": world.flag_keys}.get(name) or ["x"]
    return st.one_of(st.sampled_from(known), st.sampled_from(known), texts(surrogates=False), st.integers())


def json_payloads(fields: list[str], world: World) -> st.SearchStrategy[tuple[bytes, str | None]]:
    """(body, content type): mostly objects with the known fields, also other JSON values and broken text."""
    objects = body_from(fields, world).map(to_json)
    others = st.one_of(json_values().map(to_json), st.sampled_from(NOT_JSON), st.binary(max_size=40))
    body = st.one_of(*[objects] * 6, others).map(lambda text: text if isinstance(text, bytes) else text.encode())
    content_type = st.sampled_from(["application/json"] * 8 + ["text/plain", "application/json; charset=latin-1", None])
    return st.tuples(body, content_type)


def _query_text(value: Any) -> list[str]:
    if isinstance(value, list):
        return [text for item in value for text in _query_text(item)]
    text = "" if value is None else str(value)
    return [text.encode("utf-8", "replace").decode("utf-8")]


def query_strings(names: list[str], world: World) -> st.SearchStrategy[str]:
    params = body_from(names, world, wild=st.one_of(scalars(surrogates=False), st.lists(scalars(False), max_size=2)))
    return params.map(lambda values: urlencode([(key, text) for key, value in values.items()
                                                for text in _query_text(value)]))


def form_values(value: Any) -> list[str]:
    """Return what a browser could post for ``value`` (lists as repeated fields)."""
    if isinstance(value, list):
        return [text for item in value for text in form_values(item)]
    if isinstance(value, bool):
        return ["y"] if value else []
    if value is None:
        return [""]
    text = value.removeprefix("\u0000raw:").rstrip("\u0000") if isinstance(value, str) else str(value)
    return [text.encode("utf-8", "replace").decode("utf-8")]


def form_data(names: list[str], world: World) -> st.SearchStrategy[MultiDict[str, str]]:
    wild = st.one_of(scalars(surrogates=False), st.lists(scalars(surrogates=False), max_size=3))
    return body_from(names, world, wild=wild).map(
        lambda values: MultiDict([(key, text) for key, value in values.items() for text in form_values(value)]))


def assert_api_answer(response: Any, what: str) -> None:
    """Never a 5xx; every 4xx in the error shape of API.md, with field problems for a 422."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.data[:500]!r}"
    if response.status_code < 400:
        return
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"{what}: {response.data[:300]!r}"
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], f"{what}: {error}"
    assert isinstance(error.get("message"), str) and error["message"], f"{what}: {error}"
    assert isinstance(error.get("fields"), dict), f"{what}: {error}"
    if response.status_code == 422:
        assert error["fields"], f"{what}: a 422 without field problems: {error}"
        for problems in error["fields"].values():
            assert isinstance(problems, list) and problems and all(isinstance(p, str) for p in problems), error


@pytest.fixture
def world(session, users) -> World:
    """A site with chairs and hours, the protocol catalog, patients, a booked series, today's infusions."""
    return build_world()


@pytest.mark.parametrize("route", API_ROUTES, ids=str)
def test_api_endpoint_never_fails(route: Route, backend: str, client, users, world: World) -> None:
    token = issue_token(users["admin"])
    fields, query = documented_fields(route)

    @fuzz_settings(BUDGETS[backend]["api"])
    @given(data=st.data())
    def submit(data: st.DataObject) -> None:
        url = route.url({name: data.draw(path_values(name, world), label=name) for name in route.arguments})
        headers = {"Authorization": f"Bearer {token}"}
        if route.method == "GET":
            query_string = data.draw(query_strings(query, world), label="query")
            response = client.open(url, method="GET", headers=headers, query_string=query_string)
        else:
            body, content_type = data.draw(json_payloads(fields, world), label="body")
            if content_type:
                headers["Content-Type"] = content_type
            response = client.open(url, method=route.method, headers=headers, data=body)
        SUBMITTED[backend] += 1
        assert_api_answer(response, f"{route.method} {url}")

    submit()
    FINISHED[backend] += 1


@pytest.mark.parametrize("route", FORM_ROUTES, ids=str)
def test_form_never_fails(route: Route, backend: str, app, client, signed_in, world: World) -> None:
    signed_in("admin")
    anonymous = app.test_client()  # sign-in and sign-out are fuzzed signed out: the admin stays signed in
    sender = anonymous if route.endpoint.startswith("auth.") else client
    names = form_field_names(app, route.endpoint)

    @fuzz_settings(BUDGETS[backend]["form"])
    @given(data=st.data())
    def submit(data: st.DataObject) -> None:
        url = route.url({name: data.draw(path_values(name, world), label=name) for name in route.arguments})
        form = data.draw(form_data(names, world), label="form")
        environ = {}
        if sender is anonymous:  # a fresh address each time, so no sign-in throttle carries over
            environ["REMOTE_ADDR"] = data.draw(st.ip_addresses(v=4).map(str), label="address")
        response = sender.open(url, method=route.method, data=form, environ_base=environ)
        SUBMITTED[backend] += 1
        assert response.status_code < 500, f"{route.method} {url}: {response.status_code}"
        if sender is client and (response.location or "").startswith("/login"):
            signed_in("admin")  # a route ended the session: sign in again, or no form is reached any more

    submit()
    FINISHED[backend] += 1


def test_fuzzing_made_enough_submissions(backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this module: >= 2,000 generated submissions when every fuzz test ran."""
    with capsys.disabled():
        print(f"\nfuzz [{backend}]: {SUBMITTED[backend]} submissions to {len(API_ROUTES)} API routes "
              f"and {len(FORM_ROUTES)} form routes")
    if FINISHED[backend] < len(API_ROUTES) + len(FORM_ROUTES):
        pytest.skip("only part of the fuzz tests ran")
    if backend == "sqlite":
        assert SUBMITTED[backend] >= MINIMUM_TOTAL
