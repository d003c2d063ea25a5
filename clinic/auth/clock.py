"""The clock and the client address that sessions and throttling read (tests fake the clock in config)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, request

from clinic.database import utcnow


def now() -> datetime:
    """Return the current instant, or ``app.config["CLOCK"]()`` when a test sets it."""
    fake = current_app.config.get("CLOCK")
    return fake() if fake is not None else utcnow()


def client_address() -> str:
    """Return the client's address (behind trusted proxies: see TRUSTED_PROXIES)."""
    return (request.remote_addr or "")[:64]
