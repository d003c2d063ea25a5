"""/api/v1/sites."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from clinic.api import bp
from clinic.extensions import db
from clinic.scheduling.models import Site


def site_json(site: Site) -> dict[str, Any]:
    """Return a site with its active chairs (in schedule order) and hours."""
    chairs = sorted((c for c in site.chairs if c.active), key=lambda c: (c.position, c.label, c.id))
    return {
        "id": site.id,
        "name": site.name,
        "timezone": site.timezone,
        "chairs": [{"id": c.id, "label": c.label, "kind": c.kind} for c in chairs],
        "slot_minutes": site.slot_minutes,
        "turnover_minutes": site.turnover_minutes,
        "max_starts_per_slot": site.max_starts_per_slot,
        "holiday_country": site.holiday_country,
        "holiday_subdivision": site.holiday_subdivision,
        "opening_hours": [
            {"weekday": h.weekday, "opens": h.opens_at.strftime("%H:%M"), "closes": h.closes_at.strftime("%H:%M")}
            for h in site.hours
        ],
    }


@bp.get("/sites")
def list_sites() -> Response:
    """List every site with its active chairs and opening hours (any role)."""
    query = sa.select(Site).options(selectinload(Site.chairs), selectinload(Site.hours)).order_by(Site.name)
    return jsonify([site_json(site) for site in db.session.scalars(query)])
