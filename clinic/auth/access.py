"""Who may see what: sign-in gate, role checks, token and session loading."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Flask, abort, flash, g, redirect, request, session
from flask_login import current_user
from flask_login.utils import login_url

from clinic.auth.clock import now
from clinic.auth.models import User
from clinic.auth.sessions import SESSION_KEY, check_session, ended_message, record_check
from clinic.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

#: endpoints an anonymous visitor may reach
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})


def is_api_request() -> bool:
    """Return True for requests to the JSON API (token auth, no cookies)."""
    return request.blueprint == "api" or request.path.startswith("/api/")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # The API never trusts the session cookie: it would make cookie-borne
    # requests CSRF-able, since the API is exempt from CSRF tokens.
    if is_api_request() or not (user_id.isascii() and user_id.isdigit()):
        return None
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        return None
    instant = now()
    check = check_session(key, int(user_id), instant)
    record_check(check, instant)
    g.session_problem = check.problem
    return check.user


@login_manager.request_loader
def _load_user_from_token(_request: Any) -> User | None:
    if not is_api_request():
        return None
    from clinic.auth.services import user_for_token

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_token(token.strip())


def require_sign_in() -> Any:
    """Send anonymous visitors to the sign-in page (API: 401)."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if current_user.is_authenticated:
        return None
    if is_api_request():
        abort(401)
    problem = g.get("session_problem")
    if problem is None:
        return login_manager.unauthorized()
    # The session ended (idle, limit, sign-out elsewhere, deactivated):
    # drop the stale cookie and say why when the reason helps the user.
    session.clear()
    flash(ended_message(problem) or login_manager.login_message, "info")
    return redirect(login_url(login_manager.login_view, next_url=request.url))


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow the view only to signed-in users holding one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def register_access(app: Flask) -> None:
    """Install the sign-in gate for every request."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.before_request(require_sign_in)
