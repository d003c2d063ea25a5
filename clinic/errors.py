"""Error pages in the app's layout and JSON errors for the API."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from clinic.audit.hooks import record_denied
from clinic.auth.access import is_api_request
from clinic.extensions import db
from clinic.scheduling.conflicts import BookingProblem

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
}


class ApiError(Exception):
    """An API error answered as ``{"error": {...}}`` with an HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        fields: dict[str, list[str]] | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.code = code or ERROR_CODES.get(status, "error")
        self.extra = extra


def error_body(status: int, message: str, fields: dict[str, list[str]] | None = None,
               code: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return the API error document."""
    body: dict[str, Any] = {
        "code": code or ERROR_CODES.get(status, "error"),
        "message": message,
        "fields": fields or {},
    }
    body.update(extra)
    return {"error": body}


def register_error_handlers(app: Flask) -> None:
    """Answer every error in the layout (HTML) or as JSON (API)."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Any:
        db.session.rollback()
        record_denied(error.status)
        body = error_body(error.status, error.message, error.fields, error.code, **error.extra)
        return jsonify(body), error.status

    @app.errorhandler(BookingProblem)
    def _booking_problem(error: BookingProblem) -> Any:
        db.session.rollback()
        if is_api_request():
            code = error.extra.pop("code", None) or ("conflict" if error.status == 409 else "invalid")
            body = error_body(error.status, error.message, error.fields, code, **error.extra)
            return jsonify(body), error.status
        return render_template("error.html", status=error.status, title="Cannot book", message=error.message), error.status

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Any:
        db.session.rollback()
        return render_template(
            "error.html", status=400, title="Form expired",
            message="The form was missing its security token or it expired. Go back, reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        db.session.rollback()
        status = error.code or 500
        record_denied(status)
        # a 429 (or 503) says when to come back
        headers = {name: value for name, value in error.get_headers() if name == "Retry-After"}
        if is_api_request():
            return jsonify(error_body(status, error.description or error.name)), status, headers
        return render_template(
            "error.html", status=status, title=error.name, message=error.description
        ), status, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error")
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise error
        status = 500
        if is_api_request():
            return jsonify(error_body(status, "Something went wrong on our side.")), status
        return render_template(
            "error.html", status=status, title=InternalServerError.name,
            message="Something went wrong on our side. Nothing was saved; please try again.",
        ), status
