"""Wire the trail into the app: the acting user per request, sign-ins, denials."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from clinic.audit.capture import install_capture
from clinic.audit.services import Actor, actor_of, install_session_hooks, record, record_now, set_actor

_PREVIOUS = "_audit_previous_actor"


def _address() -> str:
    return request.remote_addr or ""


def set_request_actor() -> None:
    """Attribute this request's writes to the signed-in user and client address."""
    setattr(g, _PREVIOUS, set_actor(actor_of(current_user, _address())))


def reset_request_actor(_error: BaseException | None = None) -> None:
    """Restore the actor that was set before this request."""
    if hasattr(g, _PREVIOUS):
        set_actor(getattr(g, _PREVIOUS))
        delattr(g, _PREVIOUS)


def _on_signed_in(_sender: Any, user: Any, **_extra: Any) -> None:
    """Queue a sign-in; the sign-in's commit writes it."""
    record("sign_in", "user_account", user.id, actor=actor_of(user, _address()))


def _on_signed_out(_sender: Any, user: Any, **_extra: Any) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        record("sign_out", "user_account", user.id, actor=actor_of(user, _address()))


def _on_sign_in_failed(_sender: Any, username: str = "", address: str = "", **extra: Any) -> None:
    """Queue a failed or throttled sign-in: the name tried, never the password."""
    from clinic.auth.services import find_user

    tried = (username or "").strip()[:64]
    user = find_user(tried) if tried else None
    changes: dict[str, Any] = {"username": tried}
    if "retry_after" in extra:
        changes.update(reason="throttled", retry_after=extra["retry_after"])
    outcome = "denied" if "retry_after" in extra else "failure"
    actor = Actor(None, tried, address or _address())
    record("sign_in_failed", "user_account", user.id if user else None, changes, outcome, actor)


def connect_sign_in_signals() -> None:
    """Listen to Flask-Login's and the sign-in view's signals (idempotent)."""
    from flask_login import user_logged_in, user_logged_out

    from clinic.auth import signals

    user_logged_in.connect(_on_signed_in)
    user_logged_out.connect(_on_signed_out)
    signals.sign_in_failed.connect(_on_sign_in_failed)
    signals.sign_in_throttled.connect(_on_sign_in_failed)


def record_denied(status: int) -> None:
    """Write a denied access (403; 401 on the API with a token) after the rollback."""
    from clinic.auth.access import is_api_request

    signed_in = current_user.is_authenticated
    has_token = is_api_request() and bool(request.headers.get("Authorization", "").strip())
    if not (status == 403 and signed_in) and not (status == 401 and has_token):
        return
    changes = {"method": request.method, "path": request.path, "status": status}
    if status == 401:
        changes["reason"] = "bad or revoked token"
    actor = actor_of(current_user if signed_in else None, _address())
    _write_safely("denied", "request", request.endpoint or "", changes, "denied", actor)


def _write_safely(action: str, entity: str, entity_id: Any, changes: dict[str, Any], outcome: str,
                  actor: Actor) -> None:
    from flask import current_app

    from clinic.extensions import db

    try:
        record_now(action, entity, entity_id, changes, outcome, actor)
    except SQLAlchemyError:
        # The answer (401/403) must still go out; the log says the trail missed it.
        db.session.rollback()
        current_app.logger.exception("could not write the %s audit event", action)


def register_audit(app: Flask) -> None:
    """Install the session hooks and the per-request actor (after the sign-in gate)."""
    install_capture()
    install_session_hooks()
    connect_sign_in_signals()
    app.before_request(set_request_actor)
    app.teardown_request(reset_request_actor)
