"""Database plumbing: UTC-aware timestamps, SQLite transaction mode, conflicts."""

from __future__ import annotations

import contextvars
import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

#: When True, SQLite transactions start with BEGIN IMMEDIATE (take the write
#: lock up front). Requests that write set it; plain reads keep BEGIN DEFERRED
#: so readers never queue behind each other.
sqlite_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sqlite_immediate", default=True
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC instant on every database (SQLite stores naive UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware instant")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current instant in UTC (the only clock read for rows)."""
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling
    # defers it and breaks SAVEPOINT and BEGIN IMMEDIATE).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()
    if mode and mode[0] not in ("memory", "wal"):
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_immediate.get() else "BEGIN")


OVERLAP_CONSTRAINTS = {
    "ex_appointment_chair_overlap": "chair",
    "ex_appointment_patient_overlap": "patient",
}
_OVERLAP_RE = re.compile("|".join(OVERLAP_CONSTRAINTS))


def overlap_kind(error: IntegrityError) -> str | None:
    """Return "chair" or "patient" if the error is a double booking, else None.

    PostgreSQL reports the exclusion constraint by name; the SQLite triggers
    raise a message carrying the same name.
    """
    orig = error.orig
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)
    if name in OVERLAP_CONSTRAINTS:
        return OVERLAP_CONSTRAINTS[name]
    match = _OVERLAP_RE.search(str(orig))
    return OVERLAP_CONSTRAINTS[match.group(0)] if match else None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def choose_sqlite_transaction_mode() -> None:
    """Take SQLite's write lock up front only for requests that may write."""
    from flask import request

    sqlite_immediate.set(request.method not in SAFE_METHODS)
