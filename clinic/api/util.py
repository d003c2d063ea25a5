"""Helpers shared by the API routes: JSON in, forms, JSON errors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from flask import request
from werkzeug.datastructures import MultiDict
from wtforms import Form

from clinic.errors import ApiError

F = TypeVar("F", bound=Form)


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or raise a 400 ApiError."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting: not a body anyone meant
        payload = None
    if not isinstance(payload, dict):
        raise ApiError(400, "The body must be a JSON object.", code="malformed_json")
    from clinic.security import contains_nul

    bad = sorted(str(key) for key, value in payload.items() if contains_nul(key) or contains_nul(value))
    if bad:
        raise ApiError(422, "Some fields are not valid.", fields={key: ["Must not contain a NUL character."] for key in bad})
    return payload


def _as_form_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "y" if value else None
    if isinstance(value, (str, int, float)):
        return str(value)
    return None  # lists/objects are not scalar form fields


def validated_form(form_class: type[F], payload: dict[str, Any], **kwargs: Any) -> F:
    """Validate a JSON object with an HTML form class; 422 with field errors.

    The same WTForms class serves the page and the API, so both accept and
    refuse exactly the same values.
    """
    bad_types = {
        key: ["Must be a single value, not a list or object."]
        for key, value in payload.items()
        if isinstance(value, (list, dict)) and key in form_class.__dict__
    }
    data = MultiDict()
    for key, value in payload.items():
        text = _as_form_value(value)
        if text is not None:
            data[key] = text
    form = form_class(formdata=data, meta={"csrf": False}, **kwargs)
    if not form.validate() or bad_types:
        fields = {name: list(errors) for name, errors in form.errors.items() if isinstance(errors, list)}
        fields.update(bad_types)
        raise ApiError(422, "Some fields are not valid.", fields=fields)
    return form


def form_values(form: Form) -> dict[str, Any]:
    """Return the form's data without CSRF and submit fields."""
    return {name: field.data for name, field in form._fields.items() if name not in ("csrf_token", "submit")}


def site_and_day_or_error(now: datetime) -> tuple[Any, date]:
    """Return the ?site_id=&date= of the request; 404 unknown site, 422 malformed."""
    from clinic.scheduling.dayargs import ScheduleQueryError, resolve_schedule_query

    try:
        return resolve_schedule_query(request.args.get("site_id"), request.args.get("date"), now)
    except ScheduleQueryError as error:
        if error.field is None:
            raise ApiError(404, error.message) from None
        raise ApiError(422, error.message, fields={error.field: [error.message]}) from None
