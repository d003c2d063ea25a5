"""The admin page that browses the audit trail."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from wtforms import DateField, Form, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from clinic.audit.capture import AUDITED_TABLES
from clinic.audit.models import AuditEvent
from clinic.audit.queries import AuditFilter, audit_query
from clinic.audit.services import ACTIONS, REDACTED
from clinic.auth.access import roles_required
from clinic.auth.models import User
from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.scheduling.queries import default_site

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

ENTITIES = (*sorted(AUDITED_TABLES), "request")
#: longest value shown in full on the page (protocol definitions are long)
SHOWN_CHARS = 160
#: highest page number asked of the database (a huge OFFSET overflows SQLite)
MAX_PAGE = 1_000_000


#: days the filter accepts (their start must fit a datetime in every zone)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def printable(_form: Form, field: StringField) -> None:
    """Refuse control characters (databases refuse some of them)."""
    if field.data and not field.data.isprintable():
        raise ValidationError("No control characters.")


def _choices(values: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice("", "Any")] + [SelectChoice(value, value.replace("_", " ")) for value in values]


class AuditFilterForm(Form):
    """The filters above the trail (a GET form: no CSRF, nothing changes)."""

    patient = StringField("Patient", validators=[Optional(), Length(max=32), printable],
                          description="Patient id or MRN.")
    user = StringField("User", validators=[Optional(), Length(max=64), printable],
                       description="Username (also names tried at sign-in).")
    date_from = DateField("From", validators=[Optional()], description="First day, site time.")
    date_to = DateField("To", validators=[Optional()], description="Last day, site time.")
    entity = SelectField("Entity", default="", choices=_choices(ENTITIES))
    action = SelectField("Action", default="", choices=_choices(ACTIONS))

    #: the patient the ``patient`` field names, once validated
    patient_id: int | None = None

    def validate_patient(self, field: StringField) -> None:
        """Resolve the patient now so the query filters by id."""
        self.patient_id = find_patient_id(field.data or "")
        if self.patient_id is None:
            raise ValidationError("No patient with this id or MRN.")

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, then that the range runs forward."""
        ok = super().validate(extra_validators)
        for field in (self.date_from, self.date_to):
            if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
                field.errors.append(f"Choose a day from {FIRST_DAY.year} to {LAST_DAY.year}.")
                ok = False
        if ok and self.date_from.data and self.date_to.data and self.date_to.data < self.date_from.data:
            self.date_to.errors.append("The last day comes before the first.")
            ok = False
        return ok


def find_patient_id(text: str) -> int | None:
    """Return the id of the patient with this id or MRN."""
    text = text.strip()
    if not text:
        return None
    query = sa.select(Patient.id).where(sa.func.lower(Patient.mrn) == text.lower())
    if text.isascii() and text.isdigit() and int(text) < 2**31:
        query = sa.select(Patient.id).where(sa.or_(Patient.id == int(text), sa.func.lower(Patient.mrn) == text.lower()))
    return db.session.scalars(query.order_by(Patient.id)).first()


def _day_start(day: date | None, tz: str) -> datetime | None:
    return datetime.combine(day, time(), ZoneInfo(tz)) if day else None


def filter_from(form: AuditFilterForm, tz: str) -> AuditFilter:
    """Return the filter of the fields that passed validation."""
    def good(field: Any) -> Any:
        return None if field.errors else field.data

    last_day = good(form.date_to)
    return AuditFilter(
        patient_id=None if form.patient.errors else form.patient_id,
        username=(good(form.user) or "").strip(),
        since=_day_start(good(form.date_from), tz),
        until=_day_start(last_day + timedelta(days=1), tz) if last_day else None,
        entity=good(form.entity) or "",
        action=good(form.action) or "",
    )


def shown(value: Any) -> str:
    """Return a recorded value as staff read it (long ones cut short)."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def change_lines(event: AuditEvent) -> list[tuple[str, str, str | None]]:
    """Return (field, before, after) for updates, (field, value, None) otherwise."""
    lines: list[tuple[str, str, str | None]] = []
    for field, change in sorted((event.changes or {}).items()):
        if event.action == "update" and change != REDACTED and isinstance(change, list) and len(change) == 2:
            lines.append((field, shown(change[0]), shown(change[1])))
        else:
            lines.append((field, shown(change), None))
    return lines


@bp.get("/")
@roles_required("admin")
def index() -> str:
    """List the trail newest first, filtered by patient, user, days, entity and action."""
    site = default_site()
    tz = site.timezone if site else "UTC"
    form = AuditFilterForm(request.args)
    form.validate()
    page = db.paginate(
        audit_query(filter_from(form, tz)),
        page=min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE),
        per_page=current_app.config.get("AUDIT_PER_PAGE", 50),
        error_out=False,
    )
    names = db.session.scalars(sa.select(User.username).order_by(User.username)).all()
    filters = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template(
        "audit/index.html", form=form, page=page, tz=tz, usernames=names, filters=filters,
        change_lines=change_lines,
    )
