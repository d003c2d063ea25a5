"""Sign-in throttling: too many failures for a username or from an address → wait.

Every attempt that reaches the password check is recorded in
``sign_in_attempt``. Before checking a password, one query counts the
failures within the window for the (lower-cased) username and for the
address; at ``SIGN_IN_MAX_FAILURES`` either key answers 429 until its oldest
failure in the window has left it. Unknown and known usernames are treated
alike, so the answer never tells whether an account exists.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from clinic.auth.models import SignInAttempt
from clinic.extensions import db


def normalise_username(username: str) -> str:
    """Return the throttling key for a username (trimmed, lower-cased)."""
    return username.strip().lower()[:64]


def _window() -> tuple[int, timedelta]:
    config = current_app.config
    return config["SIGN_IN_MAX_FAILURES"], timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"])


def retry_after(username: str, address: str, now: datetime) -> int | None:
    """Return the seconds to wait before another attempt, or None if one may try now."""
    limit, window = _window()
    by_user = SignInAttempt.username == normalise_username(username)
    by_address = SignInAttempt.address == address[:64]
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(by_user),
            sa.func.min(SignInAttempt.at).filter(by_user),
            sa.func.count().filter(by_address),
            sa.func.min(SignInAttempt.at).filter(by_address),
        ).where(SignInAttempt.success.is_(False), SignInAttempt.at > now - window, sa.or_(by_user, by_address))
    ).one()
    user_failures, user_oldest, address_failures, address_oldest = row
    waits = [
        oldest + window - now
        for failures, oldest in ((user_failures, user_oldest), (address_failures, address_oldest))
        if failures >= limit and oldest is not None
    ]
    if not waits:
        return None
    return max(1, math.ceil(max(waits).total_seconds()))


def record_attempt(username: str, address: str, success: bool, now: datetime) -> None:
    """Record one attempt that reached the password check."""
    db.session.add(SignInAttempt(
        username=normalise_username(username), address=address[:64], at=now, success=success
    ))
    db.session.flush()


def wait_message(seconds: int) -> str:
    """Return the sentence shown with a 429."""
    minutes = math.ceil(seconds / 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."
