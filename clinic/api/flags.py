"""/api/v1/flags: the flags of one site's appointments on one local day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request

from clinic.api import bp
from clinic.errors import ApiError
from clinic.monitoring.flags import day_worklist, flag_json, site_today
from clinic.scheduling.dayargs import ScheduleQueryError, resolve_schedule_query


@bp.get("/flags")
def list_flags() -> list[dict[str, Any]]:
    """Return the day's flags (defaults: first site, today there), by severity then time."""
    now = datetime.now(UTC)
    try:
        site, day = resolve_schedule_query(request.args.get("site_id"), request.args.get("date"), now)
    except ScheduleQueryError as error:
        if error.field is None:
            raise ApiError(404, error.message) from None
        raise ApiError(422, error.message, fields={error.field: [error.message]}) from None
    return [flag_json(row.flag, row.ack) for row in day_worklist(site, day, site_today(site, now))]
