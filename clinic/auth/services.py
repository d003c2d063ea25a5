"""Create and deactivate users, check passwords, issue and resolve API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from clinic.auth.models import ROLES, ApiToken, User
from clinic.auth.sessions import end_user_sessions
from clinic.extensions import db


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"]
    )


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher().hash(password)


def create_user(username: str, role: str, password: str, full_name: str = "") -> User:
    """Add a user; raise UserError for a bad role, name or password."""
    username = username.strip()
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise UserError("a username needs 1 to 64 characters")
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    if find_user(username) is not None:
        raise UserError(f"a user named {username!r} already exists")
    user = User(
        username=username, role=role, password_hash=hash_password(password), full_name=full_name
    )
    db.session.add(user)
    db.session.flush()
    return user


def find_user(username: str) -> User | None:
    """Return the user with this name (case-insensitive), or None."""
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    )


def authenticate(username: str, password: str) -> User | None:
    """Return the active user if the password matches, else None.

    An unknown name still costs one hash check, so timing does not tell
    whether the name exists.
    """
    user = find_user(username)
    hasher = _hasher()
    if user is None:
        try:
            hasher.verify(_dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            pass
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    key = f"{current_app.config['ARGON2_TIME_COST']}/{current_app.config['ARGON2_MEMORY_COST']}"
    if key not in _DUMMY:
        _DUMMY[key] = _hasher().hash(secrets.token_urlsafe(16))
    return _DUMMY[key]


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    """Create an API token for ``user`` and return it (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_digest(token)))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """Return the active user owning this unrevoked token, or None."""
    row = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == _token_digest(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    return row.user


def deactivate_user(user: User, now: datetime) -> int:
    """Stop ``user`` from working: no sign-in, sessions ended, tokens revoked.

    Return how many open sessions were ended (a copied cookie stops working
    at once; the per-request check refuses inactive users as well).
    """
    user.active = False
    db.session.execute(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    ended = end_user_sessions(user, now)
    db.session.flush()
    return ended
