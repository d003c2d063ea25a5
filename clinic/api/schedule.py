"""/api/v1/schedule: one site's day, chair by chair, with the load per slot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any


from clinic.api import bp
from clinic.api.util import site_and_day_or_error
from clinic.api.serializers import iso_local
from clinic.scheduling.dayview import DayView, day_view
from clinic.scheduling.models import Appointment


def _flag_json(flag: Any) -> dict[str, Any]:
    """Return a flag (a mapping or a domain dataclass) as the F object of API.md."""
    if isinstance(flag, Mapping):
        return dict(flag)
    if hasattr(flag, "to_dict"):
        return dict(flag.to_dict())
    return asdict(flag)


def schedule_appointment_json(appointment: Appointment, view: DayView) -> dict[str, Any]:
    """Return one appointment in the schedule's shape."""
    tz = view.site.timezone
    return {
        "id": appointment.id,
        "patient": {
            "id": appointment.patient.id,
            "name": appointment.patient.name,
            "mrn": appointment.patient.mrn,
        },
        "start": iso_local(appointment.start_at, tz),
        "end": iso_local(appointment.end_at, tz),
        "protocol_code": appointment.protocol.code if appointment.protocol else None,
        "dose": {"amount": appointment.dose_amount, "unit": appointment.dose_unit},
        "status": appointment.status,
        "flags": [_flag_json(flag) for flag in view.flags_for(appointment.id)],
    }


def schedule_json(view: DayView) -> dict[str, Any]:
    """Return the day view as the GET /schedule document of API.md."""
    tz = view.site.timezone
    return {
        "date": view.day.isoformat(),
        "site": {"id": view.site.id, "name": view.site.name, "timezone": tz},
        "chairs": [
            {
                "id": lane.chair.id,
                "label": lane.chair.label,
                "kind": lane.chair.kind,
                "appointments": [schedule_appointment_json(a, view) for a in lane.appointments],
            }
            for lane in view.lanes
        ],
        "load": [
            {"slot_start": iso_local(slot.start, tz), "starts": slot.starts, "in_chair": slot.in_chair}
            for slot in view.load
        ],
    }


@bp.get("/schedule")
def schedule() -> dict[str, Any]:
    """Return a site's chairs and appointments for a local day (defaults: first site, today)."""
    now = datetime.now(UTC)
    site, day = site_and_day_or_error(now)
    return schedule_json(day_view(site, day, now))
