"""Audit trail use cases: who acts, queue events, chain and write them, verify.

Events are queued on the session while it flushes (``capture``) or by
``record`` (sign-ins, denied access) and written at commit, inside the
committing transaction: the chain lock is then the last lock a transaction
takes and is held only for the commit, so writers never deadlock on it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from clinic.audit.models import AuditEvent
from clinic.database import utcnow
from clinic.extensions import db

#: pg_advisory_xact_lock(key, object) taken before reading the chain's end
#: (7301 is the booking lock's key; this one is the audit trail's).
CHAIN_LOCK = (7302, 1)
#: what the trail says instead of a secret's value
REDACTED = "changed"
#: the fields the hash covers (everything but id and the hashes)
CONTENT_FIELDS = ("at", "user_id", "username", "action", "entity", "entity_id", "changes", "outcome", "address")
ROW_ACTIONS = ("create", "update", "delete")
ACTIONS = (*ROW_ACTIONS, "sign_in", "sign_in_failed", "sign_out", "denied")
_PENDING = "audit_pending"
_TABLE = AuditEvent.__table__
_LIMITS = {"username": 64, "action": 40, "entity": 40, "entity_id": 40, "address": 64}


@dataclass(frozen=True)
class Actor:
    """Who acts, as plain values (read once, safe inside a flush)."""

    user_id: int | None = None
    username: str = ""
    address: str = ""


_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def actor_of(user: Any, address: str = "") -> Actor:
    """Return the actor for a user (None or anonymous: no user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(None, "", address)
    return Actor(user.id, user.username, address)


def current_actor() -> Actor:
    """Return the actor set for this request, command or test (else nobody)."""
    return _actor.get() or Actor()


@contextmanager
def audit_context(user: Any, address: str = "") -> Iterator[Actor]:
    """Attribute the events written inside the block to ``user`` at ``address``."""
    actor = actor_of(user, address)
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor | None) -> Actor | None:
    """Set the actor for the rest of this context; return the previous one."""
    previous = _actor.get()
    _actor.set(actor)
    return previous


def json_safe(value: Any) -> Any:
    """Return ``value`` as JSON data (dates and instants as ISO strings)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def new_event(action: str, entity: str, entity_id: Any = None, changes: Mapping[str, Any] | None = None,
              outcome: str = "success", actor: Actor | None = None) -> dict[str, Any]:
    """Return an event's content (no time or hash yet), fitted to the columns."""
    actor = actor or current_actor()
    event = {
        "user_id": actor.user_id, "username": actor.username, "address": actor.address,
        "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "changes": json.loads(json.dumps(json_safe(dict(changes or {})))),
        "outcome": outcome,
    }
    for field, limit in _LIMITS.items():
        if isinstance(event[field], str):  # PostgreSQL text refuses NUL
            event[field] = event[field].replace("\x00", "\ufffd")[:limit]
    return event


# -- queueing on the session ------------------------------------------------


def _tag(session: orm.Session) -> orm.SessionTransaction:
    """Return the innermost (savepoint or root) transaction, beginning one if needed."""
    return session.get_nested_transaction() or session.get_transaction() or session.begin()


def queue(session: orm.Session, events: list[dict[str, Any]]) -> None:
    """Queue events to be written when the session's transaction commits."""
    if events:
        tag = _tag(session)
        session.info.setdefault(_PENDING, []).extend((tag, event) for event in events)


def record(action: str, entity: str, entity_id: Any = None, changes: Mapping[str, Any] | None = None,
           outcome: str = "success", actor: Actor | None = None) -> None:
    """Queue one event on ``db.session``; it is written by the next commit."""
    queue(db.session(), [new_event(action, entity, entity_id, changes, outcome, actor)])


def record_now(action: str, entity: str, entity_id: Any = None, changes: Mapping[str, Any] | None = None,
               outcome: str = "success", actor: Actor | None = None) -> None:
    """Write one event in its own transaction (after a rollback: failures, denials)."""
    from clinic.database import sqlite_immediate

    session = db.session()
    if session.in_transaction():
        session.rollback()
    sqlite_immediate.set(True)  # the write lock up front: no stale-read upgrade on SQLite
    record(action, entity, entity_id, changes, outcome, actor)
    session.commit()


def _within(tag: orm.SessionTransaction | None, ended: orm.SessionTransaction) -> bool:
    while tag is not None:
        if tag is ended:
            return True
        tag = tag.parent
    return False


def _drop_rolled_back(session: orm.Session, previous_transaction: orm.SessionTransaction) -> None:
    """Forget events queued inside a transaction or savepoint that rolled back."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(tag, e) for tag, e in pending if not _within(tag, previous_transaction)]


def _forget_at_end(session: orm.Session, transaction: orm.SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _write_at_commit(session: orm.Session) -> None:
    """Flush the last changes, then chain and insert the queued events."""
    if session.in_nested_transaction():
        return  # a savepoint: the root's commit writes everything
    session.flush()
    pending = session.info.pop(_PENDING, [])
    if pending:
        write_events(session.connection(), merge_events([event for _tag, event in pending]))


def install_session_hooks() -> None:
    """Write queued events at commit; drop those of rolled-back work (idempotent)."""
    for name, listener in (("before_commit", _write_at_commit), ("after_soft_rollback", _drop_rolled_back),
                           ("after_transaction_end", _forget_at_end)):
        if not sa.event.contains(orm.Session, name, listener):
            sa.event.listen(orm.Session, name, listener)


# -- merging the flushes of one transaction ----------------------------------


def _fold(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Fold a later update of the same row into ``target`` (create or update)."""
    changes = target["changes"]
    for field, change in update["changes"].items():
        if change == REDACTED:
            changes[field] = REDACTED
        elif target["action"] == "create":
            changes[field] = change[1]
        elif field in changes and changes[field] != REDACTED:
            changes[field] = [changes[field][0], change[1]]
        else:
            changes[field] = change
    if target["action"] == "update":
        target["changes"] = {f: c for f, c in changes.items() if c == REDACTED or c[0] != c[1]}


def merge_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one event per row change of the transaction (several flushes folded)."""
    merged: list[dict[str, Any]] = []
    open_rows: dict[tuple[Any, ...], int] = {}
    for event in events:
        key = (event["entity"], event["entity_id"], event["user_id"], event["address"])
        if event["action"] == "update" and key in open_rows:
            _fold(merged[open_rows[key]], event)
            continue
        if event["action"] in ("create", "update"):
            open_rows[key] = len(merged)
        elif event["action"] == "delete":
            open_rows.pop(key, None)
        merged.append(event)
    return [e for e in merged if e["action"] != "update" or e["changes"]]


# -- the hash chain ---------------------------------------------------------


def canonical(row: Mapping[str, Any]) -> str:
    """Return the canonical JSON of an event's content fields."""
    content = {field: row[field] for field in CONTENT_FIELDS}
    content["at"] = row["at"].astimezone(UTC).isoformat()
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def chain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """Return sha256(prev_hash + canonical content) as hex."""
    return hashlib.sha256((prev_hash + canonical(row)).encode()).hexdigest()


def write_events(connection: sa.Connection, events: list[dict[str, Any]]) -> None:
    """Append events to the chain (one insert each, so ids follow the chain)."""
    if not events:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key, :object)"),
                           {"key": CHAIN_LOCK[0], "object": CHAIN_LOCK[1]})
    prev_hash = connection.scalar(sa.select(_TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)) or ""
    at = utcnow()
    for event in events:
        row = {**event, "at": at, "prev_hash": prev_hash}
        row["hash"] = prev_hash = chain_hash(prev_hash, row)
        connection.execute(_TABLE.insert(), row)


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the chain."""

    events: int
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(connection: sa.Connection | None = None) -> Verification:
    """Walk the chain in id order and report the first broken link."""
    connection = connection or db.session.connection()
    prev_hash, prev_id, count = "", None, 0
    result = connection.execute(sa.select(_TABLE).order_by(_TABLE.c.id).execution_options(yield_per=1000))
    try:
        for row in result.mappings():
            count += 1
            if row["prev_hash"] != prev_hash:
                after = f"the hash of event {prev_id}" if prev_id is not None else "the start of the trail"
                problem = f"its prev_hash does not match {after} (a row was removed, inserted or changed)"
                return Verification(count, row["id"], problem)
            if chain_hash(prev_hash, row) != row["hash"]:
                return Verification(count, row["id"], "its content does not match its hash (the row was changed)")
            prev_hash, prev_id = row["hash"], row["id"]
    finally:
        result.close()
    return Verification(count)
