"""/api/v1/openapi.json: an OpenAPI 3.1 description of the API (API.md is the contract).

The document is a plain dict built here, next to the routes it describes;
``tests/web/test_openapi.py`` fails when a route of the ``api`` blueprint is
missing from ``paths``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from clinic.api import bp
from clinic.domain.policy import SCREENING_TESTS
from clinic.monitoring.forms import SYMPTOMS
from clinic.monitoring.models import OBSERVATION_PHASES
from clinic.patients.models import SCREENING_RESULTS, SEXES
from clinic.scheduling.models import APPOINTMENT_STATUSES, CHAIR_KINDS, SERIES_STATUSES

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
ID: Schema = {"type": "integer", "minimum": 1}
DATE: Schema = {"type": "string", "format": "date", "examples": ["2027-01-04"]}
INSTANT: Schema = {"type": "string", "format": "date-time", "examples": ["2027-01-04T09:00:00+01:00"],
                   "description": "ISO 8601 with the site's UTC offset."}
TIME: Schema = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "examples": ["09:00"]}

ERROR_RESPONSES = {
    400: ("BadRequest", "The body is not a JSON object (code `malformed_json`)."),
    401: ("Unauthorized", "No bearer token, or an unknown or revoked one."),
    403: ("Forbidden", "The token's role may not do this."),
    404: ("NotFound", "No such resource."),
    409: ("Conflict", "A conflict: overlap, duplicate or stale plan; `message` names what is in the way."),
    422: ("Invalid", "Validation failed; `fields` maps each bad field to its problems."),
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """Return ``schema`` that also accepts null (JSON Schema 2020-12, as OpenAPI 3.1 uses)."""
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


def enum(values: tuple[str, ...] | list[str], **extra: Any) -> Schema:
    return {"type": "string", "enum": list(values), **extra}


def between(kind: Schema, low: float, high: float, description: str = "") -> Schema:
    schema = {**kind, "minimum": low, "maximum": high}
    return {**schema, "description": description} if description else schema


def _flag() -> Schema:
    return obj({
        "kind": enum(("reaction", "infection", "screening", "observation", "vitals")),
        "severity": enum(("info", "warning", "critical")),
        "code": {**STRING, "description": "A stable word, e.g. first_infusion, fever, screening_missing."},
        "message": STRING, "patient_id": ID, "appointment_id": nullable(ID), "key": STRING,
        "acknowledged": nullable(obj({"by": ID, "at": INSTANT})),
    }, ("kind", "severity", "code", "message", "patient_id", "appointment_id"))


def _appointment() -> Schema:
    return obj({
        "id": nullable(ID), "number": INTEGER, "phase": STRING, "target_date": DATE, "earliest": DATE,
        "latest": DATE, "start": INSTANT, "end": INSTANT, "chair_id": ID, "site_id": ID,
        "patient_id": ID, "series_id": nullable(ID), "protocol_code": nullable(STRING),
        "dose": obj({"amount": nullable(NUMBER), "unit": nullable(STRING)}, ("amount", "unit")),
        "infusion_minutes": INTEGER, "observation_minutes": INTEGER,
        "status": enum([*APPOINTMENT_STATUSES, "proposed"]), "reason": nullable(STRING),
        "moved_reason": nullable(STRING), "flags": array(ref("F")),
    }, ("number", "phase", "target_date", "earliest", "latest", "start", "end", "chair_id", "site_id",
        "dose", "infusion_minutes", "observation_minutes", "status", "flags"))


def _patient_fields() -> dict[str, Schema]:
    return {
        "mrn": {**STRING, "maxLength": 32, "pattern": "^[A-Za-z0-9._/-]+$"},
        "given_name": {**STRING, "maxLength": 80}, "family_name": {**STRING, "maxLength": 80},
        "birth_date": DATE, "sex": enum(SEXES),
        "weight_kg": nullable(between(NUMBER, 1, 400)), "height_cm": nullable(between(NUMBER, 30, 250)),
        "measured_on": nullable(DATE), "allergies": {**STRING, "maxLength": 2000},
        "phone": {**STRING, "maxLength": 40}, "email": {**STRING, "maxLength": 120, "format": "email"},
    }


def _series_fields() -> dict[str, Schema]:
    return {
        "patient_id": ID, "protocol_code": {**STRING, "maxLength": 64}, "start_date": DATE, "site_id": ID,
        "preferred_time": TIME, "preferred_chair_id": ID,
        "preferred_weekday": {**INTEGER, "minimum": 0, "maximum": 6, "description": "0 = Monday."},
        "horizon_days": between(INTEGER, 1, 1095), "doses": between(INTEGER, 1, 200),
        "appointments": array(obj({"number": INTEGER, "chair_id": ID, "start": INSTANT},
                                  ("number", "chair_id", "start"))),
    }


def _observation_fields() -> dict[str, Schema]:
    return {
        "phase": enum(OBSERVATION_PHASES), "recorded_at": INSTANT,
        "temperature_c": between(NUMBER, 30, 45, "°C"), "heart_rate": between(INTEGER, 20, 250, "/min"),
        "systolic_bp": between(INTEGER, 50, 260, "mmHg"), "diastolic_bp": between(INTEGER, 20, 160, "mmHg"),
        "respiratory_rate": between(INTEGER, 4, 60, "/min"), "spo2": between(INTEGER, 50, 100, "%"),
        "consciousness_alert": BOOLEAN, "on_oxygen": BOOLEAN,
        "weight_kg": between(NUMBER, 1, 400, "pre phase only"), "active_infection": BOOLEAN,
        "reaction_grade": between(INTEGER, 0, 5, "CTCAE v5; during and post phases"),
        "symptoms": array(enum([code for code, _label in SYMPTOMS])), "actions": {**STRING, "maxLength": 2000},
        "notes": STRING,
    }


def schemas() -> dict[str, Schema]:
    """Return the components' schemas."""
    chair = obj({"id": ID, "label": STRING, "kind": enum(CHAIR_KINDS)}, ("id", "label", "kind"))
    diagnosis_in = obj({"code": {**STRING, "description": "ICD-10, e.g. G35"}, "label": {**STRING, "maxLength": 200},
                        "since": nullable(DATE)}, ("code", "label"))
    screening_in = obj({"test": enum(SCREENING_TESTS), "result": enum(SCREENING_RESULTS), "value": nullable(NUMBER),
                        "collected_on": DATE, "notes": {**STRING, "maxLength": 2000}},
                       ("test", "result", "collected_on"))
    protocol = obj({"code": STRING, "version": INTEGER, "name": STRING, "drug": STRING, "indication": STRING,
                    "disease": STRING, "summary": STRING}, ("code", "version", "name", "drug", "indication", "summary"))
    unplaced = obj({"number": INTEGER, "target_date": DATE, "reason": STRING}, ("number", "target_date", "reason"))
    plan = obj({"appointments": array(ref("A")), "unplaced": array(unplaced), "protocol_code": STRING,
                "protocol_version": INTEGER}, ("appointments", "unplaced"))
    return {
        "Error": obj({"error": obj({
            "code": {**STRING, "description": "A stable word: malformed_json, unauthorized, forbidden, not_found, "
                                              "conflict, duplicate, invalid…"},
            "message": {**STRING, "description": "One sentence for people."},
            "fields": {"type": "object", "additionalProperties": array(STRING),
                       "description": "Field name → its problems; non-empty for 422."},
        }, ("code", "message", "fields"))}, ("error",)),
        "F": _flag(),
        "A": _appointment(),
        "Diagnosis": obj({"id": ID, **diagnosis_in["properties"]}, ("id", "code", "label", "since")),
        "DiagnosisInput": diagnosis_in,
        "Screening": obj({"id": ID, **screening_in["properties"], "patient_id": ID},
                         ("id", "test", "result", "value", "collected_on")),
        "ScreeningInput": screening_in,
        "Patient": obj({"id": ID, **_patient_fields(), "name": STRING, "diagnoses": array(ref("Diagnosis")),
                        "screenings": array(ref("Screening")),
                        "series": array(obj({"id": ID, "protocol_code": STRING, "protocol_version": INTEGER,
                                             "day0": DATE, "status": enum(SERIES_STATUSES)})),
                        "upcoming": array(ref("A")), "flags": array(ref("F")),
                        "changed": {**array(STRING), "description": "PATCH: the fields that changed."}},
                       ("id", "mrn", "given_name", "family_name", "birth_date", "sex", "diagnoses", "screenings")),
        "PatientInput": obj({**_patient_fields(), "diagnoses": array(ref("DiagnosisInput"))},
                            ("mrn", "given_name", "family_name", "birth_date", "sex"), additionalProperties=True),
        "PatientPatch": obj(_patient_fields(), additionalProperties=False,
                            description="Any subset of the patient's fields; others are refused with 422."),
        "Protocol": protocol,
        "ProtocolDetail": {"allOf": [protocol, obj({
            "brand": nullable(STRING), "indications": array({"type": "object"}), "regimen": {"type": "object"},
            "screenings": array({"type": "object"}), "monitoring": {"type": "object"}, "premedication": STRING,
            "observation": STRING, "reaction_notes": STRING, "infection_notes": STRING, "notes": STRING,
            "sources": array({})})]},
        "Site": obj({"id": ID, "name": STRING, "timezone": {**STRING, "examples": ["Europe/Berlin"]},
                     "chairs": array(chair), "slot_minutes": INTEGER, "turnover_minutes": INTEGER,
                     "max_starts_per_slot": INTEGER, "holiday_country": nullable(STRING),
                     "holiday_subdivision": nullable(STRING),
                     "opening_hours": array(obj({"weekday": between(INTEGER, 0, 6), "opens": TIME, "closes": TIME}))},
                    ("id", "name", "timezone", "chairs")),
        "SeriesRequest": obj(_series_fields(), ("patient_id", "protocol_code", "start_date", "site_id")),
        "SeriesPlan": plan,
        "Series": obj({"id": ID, "patient_id": ID, "site_id": ID, "protocol_code": STRING, "protocol_version": INTEGER,
                       "day0": DATE, "status": enum(SERIES_STATUSES), "stop_reason": nullable(STRING),
                       "appointments": array(ref("A")), "unplaced": array(unplaced),
                       "cancelled": {**array(ID), "description": "stop: the appointments it cancelled."}},
                      ("id", "protocol_code", "protocol_version", "appointments")),
        "AppointmentInput": obj({"patient_id": ID, "chair_id": ID, "start": INSTANT,
                                 "duration_minutes": between(INTEGER, 5, 720), "protocol_code": {**STRING, "maxLength": 64},
                                 "notes": {**STRING, "maxLength": 2000}},
                                ("patient_id", "chair_id", "start", "duration_minutes")),
        "AppointmentPatch": obj({"start": INSTANT, "chair_id": ID, "status": enum(APPOINTMENT_STATUSES),
                                 "reason": {**STRING, "maxLength": 500}}, additionalProperties=False),
        "AppointmentChange": {"allOf": [ref("A"), obj({"replanned": array({"allOf": [ref("A"), obj({
            "previous_start": INSTANT, "unplaced_reason": nullable(STRING)})]})})]},
        "ObservationInput": obj(_observation_fields(), ("phase",)),
        "Observation": obj({"id": ID, "appointment_id": ID, "recorded_by_id": nullable(ID),
                            **_observation_fields(), "reaction_label": nullable(STRING)},
                           ("id", "appointment_id", "phase", "recorded_at")),
        "ObservationResult": obj({"id": ID, "flags": array(ref("F"))}, ("id", "flags")),
        "Schedule": obj({
            "date": DATE, "site": obj({"id": ID, "name": STRING, "timezone": STRING}),
            "chairs": array(obj({"id": ID, "label": STRING, "kind": enum(CHAIR_KINDS), "appointments": array(obj({
                "id": ID, "patient": obj({"id": ID, "name": STRING, "mrn": STRING}), "start": INSTANT,
                "end": INSTANT, "protocol_code": nullable(STRING),
                "dose": obj({"amount": nullable(NUMBER), "unit": nullable(STRING)}),
                "status": enum(APPOINTMENT_STATUSES), "flags": array(ref("F"))}))})),
            "load": array(obj({"slot_start": INSTANT, "starts": INTEGER, "in_chair": INTEGER})),
        }, ("date", "site", "chairs", "load")),
        "AuditEvent": obj({"id": ID, "at": INSTANT, "user": nullable(STRING), "action": STRING, "entity": STRING,
                           "entity_id": nullable(STRING), "changes": {"type": "object"},
                           "outcome": enum(("success", "failure", "denied")), "address": STRING},
                          ("id", "at", "user", "action", "entity", "entity_id", "changes", "outcome")),
        "Me": obj({"username": STRING, "role": enum(("admin", "scheduler", "nurse", "viewer"))}, ("username", "role")),
        "OpenAPI": {"type": "object", "description": "This document."},
    }


def _parameter(name: str, where: str, schema: Schema, description: str = "") -> dict[str, Any]:
    parameter = {"name": name, "in": where, "required": where == "path", "schema": schema}
    return {**parameter, "description": description} if description else parameter


def op(operation_id: str, summary: str, ok: tuple[int, str | Schema], *, body: str | None = None,
       errors: tuple[int, ...] = (), query: tuple[dict[str, Any], ...] = (), tag: str = "") -> dict[str, Any]:
    """Return one operation: its success answer, JSON body and error answers (401 always)."""
    status, schema = ok
    content = {"application/json": {"schema": ref(schema) if isinstance(schema, str) else schema}}
    responses: dict[str, Any] = {str(status): {"description": summary, "content": content}}
    codes = {401, *errors} | ({400, 422} if body else set())
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[code][0]}"}
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag], "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    if query:
        operation["parameters"] = list(query)
    return operation


def with_path(path_item: dict[str, Any], *names: str) -> dict[str, Any]:
    """Return a path item declaring its path parameters."""
    kinds = {"code": {**STRING, "description": "Protocol code, e.g. natalizumab-ms"}}
    return {**path_item, "parameters": [_parameter(n, "path", kinds.get(n, {"type": "integer", "minimum": 0}))
                                        for n in names]}


def paths() -> dict[str, Any]:
    """Return the ``paths`` object: every route of the ``api`` blueprint."""
    day_query = (_parameter("site_id", "query", ID, "Default: the first site."),
                 _parameter("date", "query", DATE, "The site's local day; default: today there."))
    audit_query = (_parameter("entity", "query", {**STRING, "maxLength": 40}),
                   _parameter("entity_id", "query", {**STRING, "maxLength": 40}),
                   _parameter("user", "query", {**STRING, "maxLength": 64}, "Username."),
                   _parameter("since", "query", {"anyOf": [DATE, INSTANT]}, "A day (its start, site time) or an instant."),
                   _parameter("limit", "query", between(INTEGER, 1, 5000), "Default 500."))
    writes = (403,)
    return {
        "/me": {"get": op("me", "The token's user.", (200, "Me"), tag="auth")},
        "/openapi.json": {"get": op("openapi", "This description.", (200, "OpenAPI"), tag="meta")},
        "/protocols": {"get": op("list_protocols", "Current version of every protocol.", (200, array(ref("Protocol"))),
                                 tag="protocols")},
        "/protocols/{code}": with_path({"get": op("get_protocol", "A protocol with its regimen.",
                                                  (200, "ProtocolDetail"), errors=(404,), tag="protocols")}, "code"),
        "/sites": {"get": op("list_sites", "Every site with its active chairs and hours.", (200, array(ref("Site"))),
                             tag="sites")},
        "/patients": {"post": op("create_patient", "Create a patient with diagnoses.", (201, "Patient"),
                                 body="PatientInput", errors=(*writes, 409), tag="patients")},
        "/patients/{patient_id}": with_path({
            "get": op("get_patient", "A patient with diagnoses, screenings, series, upcoming appointments, flags.",
                      (200, "Patient"), errors=(404,), tag="patients"),
            "patch": op("patch_patient", "Update measures or contact details (lists the changed fields).",
                        (200, "Patient"), body="PatientPatch", errors=(*writes, 404, 409), tag="patients"),
        }, "patient_id"),
        "/patients/{patient_id}/screenings": with_path({"post": op(
            "add_screening", "Record a screening result (nurses, admins).", (201, "Screening"), body="ScreeningInput",
            errors=(*writes, 404), tag="patients")}, "patient_id"),
        "/series/preview": {"post": op("preview_series", "Plan and place a series; nothing is written.",
                                       (200, "SeriesPlan"), body="SeriesRequest", errors=(*writes, 404), tag="series")},
        "/series": {"post": op("book_series", "Book a series, all or nothing.", (201, "Series"), body="SeriesRequest",
                               errors=(*writes, 404, 409), tag="series")},
        "/series/{series_id}": with_path({"get": op("get_series", "A series with its appointments.", (200, "Series"),
                                                    errors=(404,), tag="series")}, "series_id"),
        "/series/{series_id}/stop": with_path({"post": op(
            "stop_series", "Stop a series and cancel its remaining appointments.", (200, "Series"),
            body="StopRequest", errors=(*writes, 404, 409), tag="series")}, "series_id"),
        "/appointments": {"post": op("book_appointment", "Book one appointment.", (201, "A"), body="AppointmentInput",
                                     errors=(*writes, 404, 409), tag="appointments")},
        "/appointments/{appointment_id}": with_path({
            "get": op("get_appointment", "One appointment.", (200, "A"), errors=(404,), tag="appointments"),
            "patch": op("patch_appointment", "Move an appointment or change its status; later doses re-planned.",
                        (200, "AppointmentChange"), body="AppointmentPatch", errors=(*writes, 404, 409),
                        tag="appointments"),
        }, "appointment_id"),
        "/appointments/{appointment_id}/observations": with_path({
            "get": op("list_observations", "The appointment's observations, oldest first.",
                      (200, array(ref("Observation"))), errors=(404,), tag="monitoring"),
            "post": op("add_observation", "Record vitals or a reaction (nurses, admins).", (201, "ObservationResult"),
                       body="ObservationInput", errors=(*writes, 404, 409), tag="monitoring"),
        }, "appointment_id"),
        "/schedule": {"get": op("schedule", "A site's chairs and appointments for a local day.", (200, "Schedule"),
                                errors=(404, 422), query=day_query, tag="appointments")},
        "/flags": {"get": op("list_flags", "The flags of a site's appointments on a local day.",
                             (200, array(ref("F"))), errors=(404, 422), query=day_query, tag="monitoring")},
        "/audit": {"get": op("list_audit", "The audit trail, newest first (admins only).",
                             (200, array(ref("AuditEvent"))), errors=(403, 422), query=audit_query, tag="audit")},
    }


@cache
def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of API v1."""
    components_schemas = schemas()
    components_schemas["StopRequest"] = obj({"reason": {**STRING, "minLength": 1, "maxLength": 500}}, ("reason",))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Infusion clinic API", "version": "1",
                 "description": "JSON in, JSON out. Dates are YYYY-MM-DD; instants ISO 8601 with the site's offset. "
                                "Every signed-in role reads; writes per role (see API.md)."},
        "servers": [{"url": bp.url_prefix}],
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A token from `flask --app clinic users token NAME`."}},
            "schemas": components_schemas,
            "responses": {
                name: {"description": description, "content": {"application/json": {"schema": ref("Error")}}}
                for name, description in ERROR_RESPONSES.values()
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    """Return the OpenAPI 3.1 description of this API (any signed-in role)."""
    return openapi_document()
