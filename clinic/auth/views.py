"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from clinic.auth import signals
from clinic.auth.clock import client_address, now
from clinic.auth.forms import LoginForm
from clinic.auth.services import authenticate
from clinic.auth.sessions import SESSION_KEY, end_session, start_session
from clinic.auth.throttle import record_attempt, retry_after, wait_message
from clinic.extensions import db

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Invalid username or password."


def _safe_next(target: str | None) -> str:
    """Return ``target`` if it is a local path, else the home page."""
    # Browsers read "/\\host" as "//host": refuse backslashes and control characters too.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target and target.isprintable():
            return target
    return url_for("main.home")


def _throttled(form: LoginForm, seconds: int) -> tuple[str, int, dict[str, str]]:
    flash(wait_message(seconds), "error")
    return render_template("auth/login.html", form=form), 429, {"Retry-After": str(seconds)}


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Show the sign-in form and sign a user in (throttled after repeated failures)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    username, address, instant = form.username.data or "", client_address(), now()
    wait = retry_after(username, address, instant)
    if wait is not None:
        signals.sign_in_throttled.send(username=username, address=address, retry_after=wait)
        db.session.commit()
        return _throttled(form, wait)
    user = authenticate(username, form.password.data or "")
    record_attempt(username, address, user is not None, instant)
    if user is None:
        signals.sign_in_failed.send(username=username, address=address)
        db.session.commit()
        flash(GENERIC_FAILURE, "error")
        return render_template("auth/login.html", form=form), 401
    session.clear()  # a fresh session on sign-in (no fixation)
    session[SESSION_KEY] = start_session(user, address, instant)
    login_user(user)
    db.session.commit()
    return redirect(_safe_next(form.next.data))


@bp.post("/logout")
def logout() -> Response:
    """Sign the current user out and end the session server-side."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        end_session(key, now())
    logout_user()
    session.clear()
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
