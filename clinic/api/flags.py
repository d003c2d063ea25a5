"""/api/v1/flags: the flags of one site's appointments on one local day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


from clinic.api import bp
from clinic.api.util import site_and_day_or_error
from clinic.monitoring.flags import day_worklist, flag_json, site_today


@bp.get("/flags")
def list_flags() -> list[dict[str, Any]]:
    """Return the day's flags (defaults: first site, today there), by severity then time."""
    now = datetime.now(UTC)
    site, day = site_and_day_or_error(now)
    return [flag_json(row.flag, row.ack) for row in day_worklist(site, day, site_today(site, now))]
