"""JSON API v1 (bearer tokens; API.md is the contract)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from clinic.api import (  # noqa: E402,F401  (registers the routes)
    appointments,
    audit,
    flags,
    observations,
    openapi,
    patients,
    protocols,
    routes,
    schedule,
    series,
    sites,
)
