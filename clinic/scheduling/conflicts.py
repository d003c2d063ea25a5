"""The one conflict finder, booking errors, and the booking lock."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from clinic.database import overlap_kind
from clinic.extensions import db
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment


#: longer than any chair time (forms allow 12 h); bounds overlap searches
MAX_CHAIR_TIME = timedelta(days=1)


class BookingProblem(Exception):
    """A booking request that cannot be carried out as asked (422 by default)."""

    status = 422

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra


class BookingConflict(BookingProblem):
    """The chair or the patient is already busy then (409)."""

    status = 409


def find_conflicts(
    *,
    chair_id: int,
    patient_id: int,
    start: datetime,
    end: datetime,
    chair_free_at: datetime,
    exclude_ids: Iterable[int] = (),
) -> list[Appointment]:
    """Return active appointments that overlap the chair or the patient (half-open)."""
    # No appointment is longer than a day: the lower bound keeps the index
    # range scan to the neighbourhood instead of all earlier rows.
    active = sa.and_(Appointment.status.not_in(INACTIVE_STATUSES), Appointment.start_at > start - MAX_CHAIR_TIME)
    chair_clash = sa.and_(
        Appointment.chair_id == chair_id, Appointment.start_at < chair_free_at, start < Appointment.chair_free_at
    )
    patient_clash = sa.and_(
        Appointment.patient_id == patient_id, Appointment.start_at < end, start < Appointment.end_at
    )
    query = (
        sa.select(Appointment)
        .where(active, sa.or_(chair_clash, patient_clash))
        .options(joinedload(Appointment.patient), joinedload(Appointment.chair))
        .order_by(Appointment.start_at)
    )
    excluded = list(exclude_ids)
    if excluded:
        query = query.where(Appointment.id.not_in(excluded))
    return list(db.session.scalars(query))


def describe_conflict(conflict: Appointment, patient_id: int, tz: str) -> str:
    """Say which appointment is in the way, in words staff read."""
    from clinic.templating import format_local, format_time

    when = f"{format_local(conflict.start_at, tz)}–{format_time(conflict.end_at, tz)}"
    if conflict.patient_id == patient_id:
        return f"The patient already has appointment #{conflict.id} then ({when}, {conflict.chair.label})."
    return f"{conflict.chair.label} is taken by appointment #{conflict.id} ({conflict.patient.name}, {when})."


def conflict_error(conflicts: list[Appointment], patient_id: int, tz: str) -> BookingConflict:
    """Return a 409 naming the first conflicting appointment."""
    first = conflicts[0]
    return BookingConflict(
        describe_conflict(first, patient_id, tz),
        fields={"start": [describe_conflict(first, patient_id, tz)]},
        conflicting_appointment_id=first.id,
    )


def lock_site_bookings(site_id: int) -> None:
    """Serialise booking writes per site for the rest of the transaction.

    SQLite already holds the write lock (BEGIN IMMEDIATE). On PostgreSQL a
    transaction-scoped advisory lock makes check-then-insert atomic per site,
    so start capacity holds under concurrency too; the exclusion constraints
    stay the last line of defence.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key, :site)"), {"key": 7301, "site": site_id})


@contextmanager
def overlap_guard(message: str) -> Iterator[None]:
    """Run writes in a savepoint; a double booking refused by the database -> 409.

    Add or change the rows inside the ``with`` block; they are flushed at its end.
    """
    savepoint = db.session.begin_nested()
    try:
        yield
        db.session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        kind = overlap_kind(error)
        if kind is None:
            raise
        raise BookingConflict(f"{message} (the {kind} is already booked then).") from None
    savepoint.commit()
