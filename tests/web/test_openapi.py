"""GET /api/v1/openapi.json: an OpenAPI 3.1 document that describes every API route."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from clinic.api import bp as api_bp
from clinic.auth.services import issue_token

#: components API.md names (A = appointment, F = flag)
RESOURCE_SCHEMAS = ("Patient", "Protocol", "Site", "Series", "A", "F", "Observation", "Screening", "Schedule",
                    "AuditEvent", "Error")
ERROR_STATUSES = ("400", "401", "403", "404", "409", "422")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_rules(app: Flask) -> list[tuple[str, set[str]]]:
    """Return (OpenAPI path template, methods) for every rule of the api blueprint."""
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".", 1)[0] != api_bp.name:
            continue
        relative = rule.rule.removeprefix(api_bp.url_prefix or "")
        template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", relative)
        rules.append((template, {m.lower() for m in (rule.methods or set()) - IGNORED_METHODS}))
    return rules


@pytest.fixture
def document(client, users) -> dict[str, Any]:
    token = issue_token(users["viewer"])
    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/json"
    return json.loads(response.data)


def test_is_openapi_3_1(document) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "/api/v1"}]


def test_needs_a_token(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_every_api_route_is_documented_with_its_methods(app, document) -> None:
    rules = api_rules(app)
    assert len(rules) >= 15
    missing = [
        f"{method.upper()} {path}"
        for path, methods in rules
        for method in sorted(methods)
        if method not in document["paths"].get(path, {})
    ]
    assert missing == [], f"undocumented API routes (add them to clinic/api/openapi.py): {missing}"


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, item, operation


def test_path_parameters_are_declared(document) -> None:
    for path, _method, item, operation in _operations(document):
        declared = {p["name"] for p in item.get("parameters", []) + operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), path


def test_operations_answer_json_and_name_their_errors(document) -> None:
    ids = set()
    for path, method, _item, operation in _operations(document):
        ids.add(operation["operationId"])
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        success = [code for code in responses if code.startswith("2")]
        assert len(success) == 1 and "application/json" in responses[success[0]]["content"], (method, path)
        if "requestBody" in operation:
            assert {"400", "422"} <= set(responses), (method, path)
        for code in responses:
            if code[0] in "45":
                assert responses[code]["$ref"].startswith("#/components/responses/"), (method, path, code)
    assert len(ids) == len(list(_operations(document))), "operationIds must be unique"


def test_components_describe_the_resources_and_errors(document) -> None:
    components = document["components"]
    assert set(RESOURCE_SCHEMAS) <= set(components["schemas"])
    error = components["schemas"]["Error"]["properties"]["error"]
    assert set(error["required"]) == {"code", "message", "fields"}
    statuses = {
        code
        for _path, _method, _item, operation in _operations(document)
        for code in operation["responses"]
    }
    assert set(ERROR_STATUSES) <= statuses
    assert components["securitySchemes"]["bearerAuth"] == {**components["securitySchemes"]["bearerAuth"],
                                                          "type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearerAuth": []}]


def test_every_reference_resolves(document) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            target = node.get("$ref")
            if isinstance(target, str):
                assert target.startswith("#/"), target
                resolved: Any = document
                for part in target[2:].split("/"):
                    assert part in resolved, f"dangling $ref {target}"
                    resolved = resolved[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
