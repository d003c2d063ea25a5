"""A realistic clinic to fuzz against, and the routes to fuzz (walked from ``app.url_map``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from wtforms import Form

from clinic.admin.forms import ChairForm, ClosureForm, SiteForm
from clinic.auth.forms import LoginForm
from clinic.extensions import db
from clinic.monitoring.flags import patient_flags
from clinic.monitoring.forms import STEP_FORMS
from clinic.monitoring.models import Observation
from clinic.monitoring.screening_forms import AcknowledgeForm, RechallengeForm, ScreeningForm
from clinic.patients.forms import DiagnosisForm, PatientForm
from clinic.protocols.forms import ProtocolForm, rules_toml
from clinic.protocols.services import current_protocols, sync_catalog
from clinic.scheduling.booking import SeriesRequest, book_series
from clinic.scheduling.forms import GivenForm, MoveForm, SeriesForm, SingleBookingPageForm, StatusForm
from clinic.scheduling.models import Appointment, Chair, Closure, Site, TreatmentSeries
from clinic.patients.models import Patient
from tests.factories import make_appointment, make_patient, make_site
from tests.fuzz.strategies import World

FUZZED_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_ARGUMENT = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
#: the record step of each record.* endpoint (its forms carry the step as prefix)
RECORD_STEPS = {"record.check_in": "check_in", "record.precheck": "precheck", "record.start": "start",
                "record.during": "during", "record.end": "end", "record.post_observation": "post",
                "record.complete": "complete"}
#: (form class, prefix) of each HTML endpoint; endpoints not named here get every known field
FORMS: dict[str, list[tuple[type[Form], str]]] = {
    "admin.create_site_page": [(SiteForm, "")], "admin.edit_site": [(SiteForm, "")],
    "admin.add_chair_page": [(ChairForm, "")], "admin.edit_chair": [(ChairForm, "")],
    "admin.add_closure_page": [(ClosureForm, "")], "auth.login": [(LoginForm, "")],
    "booking.details": [(SeriesForm, "")], "booking.confirm": [(SeriesForm, "")],
    "booking.single": [(SingleBookingPageForm, "")], "monitoring.acknowledge_flag": [(AcknowledgeForm, "")],
    "monitoring.clear_rechallenge_view": [(RechallengeForm, "")], "patients.add_diagnosis_page": [(DiagnosisForm, "")],
    "patients.edit": [(PatientForm, "")], "patients.create": [(PatientForm, ""), (DiagnosisForm, "diagnosis")],
    "patients.add_screening": [(ScreeningForm, "")], "protocols.edit": [(ProtocolForm, "")],
    "appointments.move": [(MoveForm, "")], "appointments.given": [(GivenForm, "")],
    "appointments.status": [(StatusForm, "")],
    **{endpoint: [(STEP_FORMS[step], step)] for endpoint, step in RECORD_STEPS.items()},
}
#: plain (non-WTForms) fields some views read from request.form
PLAIN_FIELDS = {"admin.move_chair_page": ["direction"], "booking.confirm": ["pins"],
                "appointments.move": ["confirm"], "appointments.given": ["confirm"]}


@dataclass(frozen=True)
class Route:
    """One method of one URL rule."""

    rule: str
    endpoint: str
    method: str
    arguments: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"

    def url(self, values: dict[str, object]) -> str:
        """Return the rule with ``values`` in place of its arguments (URL-quoted)."""
        def fill(match: re.Match[str]) -> str:
            safe = "/" if match.group(1) == "path" else ""
            return quote(str(values[match.group(2)]), safe=safe)

        return _ARGUMENT.sub(fill, self.rule)


def walk_routes(app: Flask) -> list[Route]:
    """Return every (rule, method) of the app but static files, sorted."""
    routes = [
        Route(rule.rule, rule.endpoint, method, tuple(m.group(2) for m in _ARGUMENT.finditer(rule.rule)))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted((rule.methods or set()) & set(FUZZED_METHODS))
    ]
    return sorted(routes, key=lambda route: (route.rule, route.method))


def api_routes(app: Flask) -> list[Route]:
    return [route for route in walk_routes(app) if route.rule.startswith("/api/")]


def form_routes(app: Flask) -> list[Route]:
    return [route for route in walk_routes(app) if not route.rule.startswith("/api/") and route.method != "GET"]


def form_field_names(app: Flask, endpoint: str) -> list[str]:
    """Return the posted names of an endpoint's form fields (subform fields included)."""
    forms = FORMS.get(endpoint)
    if forms is None:  # a route this file does not know yet: offer every field of every form
        names = {name for known in FORMS for name in form_field_names(app, known)}
        return sorted(names | {name for plain in PLAIN_FIELDS.values() for name in plain})
    names: list[str] = []
    with app.test_request_context():
        for form_class, prefix in forms:
            form = form_class(formdata=None, prefix=prefix, meta={"csrf": False})
            for field in form:
                names += [sub.name for sub in field] if field.type == "FormField" else [field.name]
    return names + PLAIN_FIELDS.get(endpoint, [])


def _next_weekday(day: date, weekday: int = 0) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def build_world() -> World:
    """Add two sites, a closure, protocols, patients, a booked series and today's infusions."""
    sync_catalog()
    site = make_site(chairs=3, beds=1, holiday_country="DE", holiday_subdivision="BE")
    make_site(chairs=1, beds=0, timezone="America/New_York")
    zone = ZoneInfo(site.timezone)
    today = datetime.now(zone).date()
    db.session.add(Closure(site_id=site.id, day=_next_weekday(today + timedelta(days=14), 2), reason="Training"))
    patients = [make_patient() for _ in range(3)] + [make_patient(weight_kg=None, height_cm=None)]
    request = SeriesRequest(patients[0].id, "natalizumab-ms", _next_weekday(today + timedelta(days=7)), site.id,
                            preferred_time=time(9), doses=3)
    book_series(request, None)
    protocol = next(p for p in current_protocols() if p.code == "natalizumab-ms")
    chairs = db.session.scalars(sa.select(Chair).where(Chair.site_id == site.id).order_by(Chair.position)).all()
    now = datetime.now(UTC)
    start = now.astimezone(zone).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    waiting = make_appointment(site, start, chairs[0], patients[1], protocol_id=protocol.id)
    reacting = make_appointment(site, start, chairs[1], patients[2], protocol_id=protocol.id, status="in_chair",
                                checked_in_at=start, actual_start_at=start)
    db.session.add(Observation(appointment_id=reacting.id, phase="during", recorded_at=now - timedelta(minutes=5),
                               reaction_grade=3, symptoms=["rash"]))
    make_appointment(site, start + timedelta(days=1), chairs[2], patients[3], status="cancelled")
    db.session.flush()
    flag_keys = [flag.key for patient in patients[1:3] for flag in patient_flags(patient.id, today, now)]
    return World(
        ids={kind: list(db.session.scalars(sa.select(model.id).order_by(model.id)))
             for kind, model in (("patient", Patient), ("site", Site), ("chair", Chair), ("closure", Closure),
                                 ("appointment", Appointment), ("series", TreatmentSeries))},
        codes=[p.code for p in current_protocols()],
        flag_keys=flag_keys,
        mrns=[p.mrn for p in patients],
        rules=[rules_toml(p.definition) for p in current_protocols()[:4]],
        timezone=site.timezone,
        today=today,
        extra={"waiting_appointment": waiting.id},
    )
