"""/api/v1/audit: the trail for admins, newest first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from clinic.api import bp
from clinic.api.serializers import iso_local
from clinic.audit.models import AuditEvent
from clinic.audit.queries import AuditFilter, audit_query
from clinic.auth.access import roles_required
from clinic.errors import ApiError
from clinic.extensions import db
from clinic.scheduling.queries import default_site

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


def _invalid(field: str, problem: str) -> ApiError:
    return ApiError(422, "Some fields are not valid.", fields={field: [problem]})


def parse_since(text: str, tz: str) -> datetime | None:
    """Return the instant for ``since``: a day (its start, site time) or an instant with offset."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            instant = datetime.combine(date.fromisoformat(text), time(), ZoneInfo(tz))
        else:
            instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            raise _invalid("since", "The instant needs a UTC offset.")
        return instant.astimezone(UTC)  # years 1 and 9999 may not fit: 422, not 500
    except (ValueError, OverflowError):
        raise _invalid("since", "Give a date YYYY-MM-DD or an ISO 8601 instant with offset.") from None


def _limit(text: str) -> int:
    if not text:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise _invalid("limit", f"Give a whole number from 1 to {MAX_LIMIT}.")
    return int(text)


def _text(name: str, longest: int) -> str:
    value = request.args.get(name, "").strip()
    if len(value) > longest:
        raise _invalid(name, f"At most {longest} characters.")
    if not value.isprintable():
        raise _invalid(name, "No control characters.")
    return value


def event_json(event: AuditEvent, tz: str) -> dict[str, Any]:
    """Return one event in the API's shape."""
    return {
        "id": event.id, "at": iso_local(event.at, tz), "user": event.username or None,
        "action": event.action, "entity": event.entity, "entity_id": event.entity_id,
        "changes": event.changes, "outcome": event.outcome, "address": event.address,
    }


@bp.get("/audit")
@roles_required("admin")
def list_audit() -> Any:
    """Return audit events newest first, by entity, entity id, user and since."""
    site = default_site()
    tz = site.timezone if site else "UTC"
    wanted = AuditFilter(
        entity=_text("entity", 40), entity_id=_text("entity_id", 40), username=_text("user", 64),
        since=parse_since(request.args.get("since", ""), tz),
    )
    limit = _limit(request.args.get("limit", "").strip())
    events = db.session.scalars(audit_query(wanted).limit(limit))
    return [event_json(event, tz) for event in events]
