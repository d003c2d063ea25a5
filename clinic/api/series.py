"""/api/v1/series: preview, book, read, stop."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo
from typing import Any

from flask_login import current_user

from clinic.api import bp
from clinic.api.serializers import appointment_json, placed_json, unplaced_json
from clinic.api.util import json_body, validated_form
from clinic.auth.access import roles_required
from clinic.errors import ApiError
from clinic.extensions import db
from clinic.scheduling.booking import (
    Pin,
    SeriesPlan,
    SeriesRequest,
    book_series,
    preview_flags,
    preview_series,
    stop_series,
)
from clinic.scheduling.forms import MAX_ID, SeriesForm, in_years, weekday_choice
from clinic.scheduling.models import TreatmentSeries

BOOKERS = ("admin", "scheduler")


def _pins(payload: dict[str, Any]) -> tuple[Pin, ...]:
    raw = payload.get("appointments")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ApiError(422, "Some fields are not valid.", fields={"appointments": ["Must be a list."]})
    pins = []
    for index, item in enumerate(raw):
        try:
            start = datetime.fromisoformat(item["start"])
            pin = Pin(number=int(item["number"]), chair_id=int(item["chair_id"]), start=start)
        except (TypeError, KeyError, ValueError):
            message = "Each needs number, chair_id and start (ISO 8601 with offset)."
            raise ApiError(422, "Some fields are not valid.", fields={f"appointments[{index}]": [message]}) from None
        if start.tzinfo is None:
            raise ApiError(422, "Some fields are not valid.", fields={f"appointments[{index}].start": ["Needs a UTC offset."]})
        if not (1 <= pin.number <= 10_000 and 1 <= pin.chair_id <= MAX_ID and in_years(start)):
            raise ApiError(422, "Some fields are not valid.", fields={f"appointments[{index}]": ["Not a valid dose or chair."]})
        pins.append(pin)
    return tuple(pins)


def series_request(payload: dict[str, Any]) -> SeriesRequest:
    """Validate a series body with the wizard's form; 422 with field errors."""
    form = validated_form(SeriesForm, payload)
    weekday = form.preferred_weekday.data
    return SeriesRequest(
        patient_id=form.patient_id.data, protocol_code=form.protocol_code.data.strip(),
        start_date=form.start_date.data, site_id=form.site_id.data,
        preferred_time=form.preferred_time.data, preferred_chair_id=form.preferred_chair_id.data,
        preferred_weekday=weekday_choice(weekday),
        horizon_days=form.horizon_days.data, doses=form.doses.data, pins=_pins(payload),
    )


def plan_json(plan: SeriesPlan, flags: dict[int, list[Any]] | None = None) -> dict[str, Any]:
    tz = plan.site.timezone
    rows = {a.dose_number: a for a in plan.appointments}
    flags = flags or {}
    return {
        "appointments": [
            {**placed_json(p, plan.site.id, tz, rows.get(p.target.number)),
             "flags": [f.to_dict() for f in flags.get(p.target.number, [])]}
            for p in plan.placement.placed
        ],
        "unplaced": [unplaced_json(u) for u in plan.placement.unplaced],
    }


@bp.post("/series/preview")
@roles_required(*BOOKERS)
def preview_series_route() -> dict[str, Any]:
    """Plan and place a series; nothing is written."""
    plan = preview_series(series_request(json_body()))
    today = datetime.now(ZoneInfo(plan.site.timezone)).date()
    body = plan_json(plan, preview_flags(plan, today))
    body.update({"protocol_code": plan.protocol.code, "protocol_version": plan.protocol.version})
    return body


@bp.post("/series")
@roles_required(*BOOKERS)
def book_series_route() -> tuple[dict[str, Any], int]:
    """Book a series all or nothing; 409 if a slot was taken meanwhile."""
    series, plan = book_series(series_request(json_body()), current_user)
    db.session.commit()
    body = {"id": series.id, "protocol_code": plan.protocol.code, "protocol_version": plan.protocol.version,
            "patient_id": series.patient_id, "site_id": series.site_id, "status": series.status}
    body.update(plan_json(plan))
    return body, 201


def _series(series_id: int) -> TreatmentSeries:
    series = db.session.get(TreatmentSeries, series_id)
    if series is None:
        raise ApiError(404, f"No series with id {series_id}.")
    return series


def series_json(series: TreatmentSeries) -> dict[str, Any]:
    tz = series.site.timezone
    return {
        "id": series.id,
        "patient_id": series.patient_id,
        "site_id": series.site_id,
        "protocol_code": series.protocol.code,
        "protocol_version": series.protocol.version,
        "day0": series.day0.isoformat(),
        "status": series.status,
        "stop_reason": series.stop_reason,
        "appointments": [appointment_json(a, tz) for a in series.appointments],
    }


@bp.get("/series/<int:series_id>")
def get_series(series_id: int) -> dict[str, Any]:
    """Return a series with its appointments."""
    return series_json(_series(series_id))


@bp.post("/series/<int:series_id>/stop")
@roles_required(*BOOKERS)
def stop_series_route(series_id: int) -> dict[str, Any]:
    """Stop a series and cancel its remaining appointments."""
    series = _series(series_id)
    payload = json_body()
    reason = payload.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise ApiError(422, "Some fields are not valid.", fields={"reason": ["Give a reason (1–500 characters)."]})
    cancelled = stop_series(series, reason.strip(), datetime.now(UTC), current_user)
    db.session.commit()
    body = series_json(series)
    body["cancelled"] = [a.id for a in cancelled]
    return body
