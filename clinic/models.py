"""Import every area's models so the metadata is complete."""

from clinic.audit.models import AuditEvent
from clinic.auth.models import ApiToken, User
from clinic.monitoring.models import FlagAck, Observation
from clinic.patients.models import Diagnosis, Patient, Screening
from clinic.protocols.models import Protocol
from clinic.scheduling.models import (
    Appointment,
    Chair,
    Closure,
    OpeningHours,
    Site,
    TreatmentSeries,
)

__all__ = [
    "ApiToken",
    "Appointment",
    "AuditEvent",
    "Chair",
    "Closure",
    "Diagnosis",
    "FlagAck",
    "Observation",
    "OpeningHours",
    "Patient",
    "Protocol",
    "Screening",
    "Site",
    "TreatmentSeries",
    "User",
]
