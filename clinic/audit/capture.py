"""Turn every flush of an audited model into audit events (one session hook).

Services stay unaware of the trail: an ``after_flush`` listener on every
Session reads what the flush wrote (ids are known by then, attribute history
is still the pre-flush one) and queues one event per new, changed or deleted
row; ``services`` writes them when the transaction commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from clinic.audit.services import REDACTED, new_event, queue

#: the tables whose rows the trail follows (entity names are table names)
AUDITED_TABLES = frozenset({
    "patient", "diagnosis", "screening", "treatment_series", "appointment", "observation", "protocol",
    "user_account", "flag_ack", "site", "chair", "closure", "opening_hours",
})
#: columns whose values never enter the trail, only the fact they changed
SECRET_COLUMNS = frozenset({"password_hash"})
_BEFORES = "audit_befores"


def _table(state: orm.InstanceState[Any]) -> str | None:
    table = state.mapper.local_table
    return table.name if isinstance(table, sa.Table) and table.name in AUDITED_TABLES else None


def _entity_id(state: orm.InstanceState[Any]) -> str | None:
    identity = state.identity or state.mapper.primary_key_from_instance(state.obj())
    values = [value for value in identity or () if value is not None]
    return ",".join(str(value) for value in values) or None


def _snapshot(state: orm.InstanceState[Any]) -> dict[str, Any]:
    """Return the loaded column values (no lazy loads inside a flush)."""
    values: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        if attribute.key in state.dict:
            value = state.dict[attribute.key]
            values[attribute.key] = REDACTED if attribute.key in SECRET_COLUMNS else value
    return values


def _unknown_befores(state: orm.InstanceState[Any]) -> list[orm.ColumnProperty[Any]]:
    """Return the columns set while unloaded (expired): history lacks their old value."""
    found = []
    for attribute in state.mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if history.added and not history.deleted and attribute.key not in SECRET_COLUMNS:
            found.append(attribute)
    return found


def _load_unknown_befores(session: orm.Session) -> dict[orm.InstanceState[Any], dict[str, Any]]:
    """Read the stored values of such columns before the flush overwrites them."""
    befores: dict[orm.InstanceState[Any], dict[str, Any]] = {}
    for instance in session.dirty:
        state = sa.inspect(instance)
        if _table(state) is None or state.identity is None:
            continue
        attributes = _unknown_befores(state)
        if not attributes:
            continue
        where = [column == value for column, value in zip(state.mapper.primary_key, state.identity)]
        query = sa.select(*(attribute.columns[0] for attribute in attributes)).where(*where)
        row = session.connection().execute(query).first()
        if row is not None:
            befores[state] = {attribute.key: value for attribute, value in zip(attributes, row)}
    return befores


def _changed(state: orm.InstanceState[Any], known: dict[str, Any]) -> dict[str, Any]:
    """Return {field: [before, after]} for the columns this flush changed."""
    changes: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if not history.added and not history.deleted:
            continue
        if attribute.key in SECRET_COLUMNS:
            changes[attribute.key] = REDACTED
            continue
        before = history.deleted[0] if history.deleted else known.get(attribute.key)
        after = history.added[0] if history.added else None
        if before != after:
            changes[attribute.key] = [before, after]
    return changes


def flush_events(session: orm.Session) -> list[dict[str, Any]]:
    """Return one event per audited row the flush created, changed or deleted."""
    befores = session.info.pop(_BEFORES, {})
    events: list[dict[str, Any]] = []
    for action, instances in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for instance in instances:
            state = sa.inspect(instance)
            entity = _table(state)
            if entity is None:
                continue
            changes = _changed(state, befores.get(state, {})) if action == "update" else _snapshot(state)
            if action == "update" and not changes:
                continue  # only a relationship collection or nothing changed
            events.append(new_event(action, entity, _entity_id(state), changes))
    return events


def _before_flush(session: orm.Session, _flush_context: Any, _instances: Any) -> None:
    session.info[_BEFORES] = _load_unknown_befores(session)


def _after_flush(session: orm.Session, _flush_context: Any) -> None:
    queue(session, flush_events(session))


def install_capture() -> None:
    """Listen to every Session's flushes (idempotent)."""
    for name, listener in (("before_flush", _before_flush), ("after_flush", _after_flush)):
        if not sa.event.contains(orm.Session, name, listener):
            sa.event.listen(orm.Session, name, listener)
