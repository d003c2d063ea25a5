"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from clinic.auth.forms import LoginForm
from clinic.auth.services import authenticate
from clinic.extensions import db

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Invalid username or password."


def _safe_next(target: str | None) -> str:
    """Return ``target`` if it is a local path, else the home page."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Show the sign-in form and sign a user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(form.next.data))
        db.session.rollback()
        flash(GENERIC_FAILURE, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign the current user out."""
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
