"""Server-side sign-in sessions: start one, check it on every request, end it.

The signed Flask cookie holds a random session key under ``SESSION_KEY``; the
``user_session`` row (key stored hashed) decides whether it is still good:
not ended, seen within ``SESSION_IDLE_MINUTES``, younger than
``SESSION_MAX_HOURS``, and its user still active.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from clinic.auth.models import User, UserSession
from clinic.extensions import db

#: the key in the Flask session that names the server-side session
SESSION_KEY = "_sid"

#: why a session no longer counts: shown to the user on the sign-in page
ENDED_MESSAGES = {
    "idle": "You were signed out after {idle} minutes without activity. Please sign in again.",
    "expired": "Your session reached its {hours}-hour limit. Please sign in again.",
}


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of checking a session key: the user, or why there is none."""

    user: User | None
    problem: str | None = None  # unknown | ended | idle | expired | inactive
    row_id: int | None = None
    touch: bool = False


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        timedelta(hours=config["SESSION_MAX_HOURS"]),
        timedelta(seconds=config["SESSION_TOUCH_SECONDS"]),
    )


def start_session(user: User, address: str, now: datetime) -> str:
    """Open a session for ``user`` and return its key (stored only hashed)."""
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(
        user_id=user.id, key_hash=_digest(key), created_at=now, last_seen_at=now, address=address[:64]
    ))
    db.session.flush()
    return key


def check_session(key: str, user_id: int, now: datetime) -> SessionCheck:
    """Return the session's user if the session still counts at ``now``."""
    row = db.session.execute(
        sa.select(UserSession, User).join(User, UserSession.user_id == User.id)
        .where(UserSession.key_hash == _digest(key))
    ).first()
    if row is None or row.UserSession.user_id != user_id:
        return SessionCheck(None, "unknown")
    record, user = row.UserSession, row.User
    if record.ended_at is not None:
        return SessionCheck(None, "ended")
    idle, longest, touch_every = _limits()
    if now - record.created_at > longest:
        return SessionCheck(None, "expired", record.id)
    if now - record.last_seen_at > idle:
        return SessionCheck(None, "idle", record.id)
    if not user.active:
        return SessionCheck(None, "inactive", record.id)
    return SessionCheck(user, None, record.id, touch=now - record.last_seen_at >= touch_every)


def record_check(check: SessionCheck, now: datetime) -> None:
    """Write what a check found (last seen, or ended) in its own short transaction.

    GET requests never commit, so this commits itself. It first ends the
    read transaction: on SQLite a write after a read in one transaction can
    fail when another connection wrote in between.
    """
    if check.row_id is None or not (check.touch or check.problem):
        return
    db.session.commit()
    values = {"last_seen_at": now} if check.problem is None else {"ended_at": now}
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == check.row_id, UserSession.ended_at.is_(None))
        .values(**values)
    )
    db.session.commit()


def end_session(key: str, now: datetime) -> None:
    """End the session with this key (sign-out)."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.key_hash == _digest(key), UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_user_sessions(user: User, now: datetime) -> int:
    """End every open session of ``user``; return how many were open."""
    result = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def ended_message(problem: str | None) -> str | None:
    """Return what to tell a user whose session ran out, if anything."""
    template = ENDED_MESSAGES.get(problem or "")
    if template is None:
        return None
    config = current_app.config
    return template.format(idle=config["SESSION_IDLE_MINUTES"], hours=config["SESSION_MAX_HOURS"])
