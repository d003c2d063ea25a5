"""Configuration from the environment, with safe development defaults."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEV_SECRET_KEY = "dev-only-not-secret"
#: production refuses a SECRET_KEY shorter than this (32 random bytes in hex is 64)
MIN_SECRET_KEY_LENGTH = 32


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'clinic.sqlite3'}"
    # Accept the common postgres:// spelling and pick the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


class Config:
    """Settings read once at app creation."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url()
    # hide_parameters: SQL errors and logs never carry row values (patient data).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # "development" or "production"; production refuses the default secret,
    # and clinic.security turns on Secure cookies and HSTS.
    CLINIC_ENV = os.environ.get("CLINIC_ENV", "development")
    # Sessions: checked server-side on every request (clinic/auth/sessions.py).
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 15)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    #: how often a session's last_seen_at is written (idle logoff is never late)
    SESSION_TOUCH_SECONDS = 60
    # The signed cookie never outlives the absolute limit (re-derived from
    # SESSION_MAX_HOURS in clinic.security when a test or deploy changes it).
    PERMANENT_SESSION_LIFETIME = timedelta(hours=SESSION_MAX_HOURS)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = CLINIC_ENV == "production"
    # "Remember me" is not offered; these only matter if it ever is.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Sign-in throttling: this many failures per username or per address
    # within the window answer 429 until the window has passed.
    SIGN_IN_MAX_FAILURES = _int("SIGN_IN_MAX_FAILURES", 5)
    SIGN_IN_WINDOW_MINUTES = _int("SIGN_IN_WINDOW_MINUTES", 15)
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust
    # (0: use the socket's address). Behind one TLS proxy set 1.
    TRUSTED_PROXIES = _int("CLINIC_TRUSTED_PROXIES", 0)
    # argon2 cost; tests lower it to keep the suite fast.
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _int("ARGON2_MEMORY_COST", 65536)
    # Default site for the demo clinic and new installs.
    DEMO_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "Europe/Berlin")
    PATIENTS_PER_PAGE = 25
