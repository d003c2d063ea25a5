"""Look-ups over the trail: filtered, newest first (one select the views paginate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from clinic.audit.models import AuditEvent
from clinic.monitoring.models import FlagAck, Observation
from clinic.patients.models import Diagnosis, Screening
from clinic.scheduling.models import Appointment, TreatmentSeries


@dataclass(frozen=True)
class AuditFilter:
    """What to show; empty values do not filter."""

    patient_id: int | None = None
    username: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    entity: str = ""
    entity_id: str = ""
    action: str = ""


def _ids_of(column: Any, where: Any) -> sa.Select[Any]:
    return sa.select(sa.cast(column, sa.String)).where(where)


def _patient_rows(patient_id: int) -> sa.ColumnElement[bool]:
    """Match events about the patient or one of the patient's rows (as they are now)."""
    related = {
        "diagnosis": _ids_of(Diagnosis.id, Diagnosis.patient_id == patient_id),
        "screening": _ids_of(Screening.id, Screening.patient_id == patient_id),
        "treatment_series": _ids_of(TreatmentSeries.id, TreatmentSeries.patient_id == patient_id),
        "appointment": _ids_of(Appointment.id, Appointment.patient_id == patient_id),
        "flag_ack": _ids_of(FlagAck.id, FlagAck.patient_id == patient_id),
        "observation": _ids_of(Observation.id, Observation.appointment_id.in_(
            sa.select(Appointment.id).where(Appointment.patient_id == patient_id))),
    }
    clauses = [sa.and_(AuditEvent.entity == "patient", AuditEvent.entity_id == str(patient_id))]
    clauses += [sa.and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids)) for entity, ids in related.items()]
    return sa.or_(*clauses, _mentions_patient(patient_id))


def _mentions_patient(patient_id: int) -> sa.ColumnElement[bool]:
    """Match events whose recorded values name the patient (rows deleted since, too).

    ``changes`` is stored as ``json.dumps`` writes it, so a create or delete
    holds ``"patient_id": 5`` followed by a comma or the closing brace.
    """
    text = sa.cast(AuditEvent.changes, sa.Text)
    key = f'"patient_id": {patient_id}'
    return sa.or_(text.like(f"%{key},%"), text.like(f"%{key}}}%"), text.like(f'%"patient_id": [{patient_id},%'))


def audit_query(wanted: AuditFilter) -> sa.Select[tuple[AuditEvent]]:
    """Return the events matching ``wanted``, newest first."""
    query = sa.select(AuditEvent)
    if wanted.patient_id is not None:
        query = query.where(_patient_rows(wanted.patient_id))
    if wanted.username:
        query = query.where(sa.func.lower(AuditEvent.username) == wanted.username.strip().lower())
    if wanted.since is not None:
        query = query.where(AuditEvent.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEvent.at < wanted.until)
    if wanted.entity:
        query = query.where(AuditEvent.entity == wanted.entity)
    if wanted.entity_id:
        query = query.where(AuditEvent.entity_id == wanted.entity_id)
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    return query.order_by(AuditEvent.id.desc())
