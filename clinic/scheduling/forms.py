"""Booking forms (the wizard's and the API's fields)."""

from __future__ import annotations

from datetime import date, datetime

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

#: database ids are 32-bit integers on PostgreSQL; anything outside is no id
MAX_ID = 2**31 - 1
ID_RANGE = NumberRange(1, MAX_ID, message="Not a valid id.")

#: the years the clinic books and records in; anything else is a typing error
YEARS = range(1900, 3000)


def check_year(value: date | datetime | None) -> None:
    """Refuse dates and instants outside the years the clinic works in."""
    if value is not None and value.year not in YEARS:
        raise ValidationError(f"Use a year between {YEARS.start} and {YEARS.stop - 1}.")


def in_years(value: date | datetime) -> bool:
    """Return True if the value's year is one the clinic works in."""
    return value.year in YEARS


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class SeriesForm(FlaskForm):
    patient_id = IntegerField("Patient", validators=[DataRequired(message="Choose a patient."), ID_RANGE])
    protocol_code = StringField("Protocol", validators=[DataRequired(message="Choose a protocol."), Length(max=64)])
    start_date = DateField("Start date (day 0)", validators=[DataRequired(message="Enter a date like 2027-01-04.")])
    site_id = IntegerField("Site", validators=[DataRequired(message="Choose a site."), ID_RANGE])
    preferred_time = TimeField("Preferred start time", validators=[Optional()],
                               description="The time the patient usually comes, e.g. 09:00.")
    preferred_weekday = SelectField(
        "Preferred weekday", validators=[Optional()],
        choices=[SelectChoice("", "No preference")] + [SelectChoice(str(i), name) for i, name in enumerate(WEEKDAYS)],
        description="Used where the dose's window allows.",
    )
    preferred_chair_id = IntegerField("Preferred chair", validators=[Optional(), ID_RANGE])
    horizon_days = IntegerField("Plan ahead (days)", default=365, validators=[Optional(), NumberRange(1, 1095)],
                                description="Open-ended protocols are planned this far ahead.")
    doses = IntegerField("Number of doses", validators=[Optional(), NumberRange(1, 200)],
                         description="Leave empty for the whole protocol (or the horizon).")

    def validate_start_date(self, field: DateField) -> None:
        if field.data and not date(2000, 1, 1) <= field.data <= date(2100, 12, 31):
            raise ValidationError("Use a start date between 2000 and 2100.")


def weekday_choice(raw: object) -> int | None:
    """Return the chosen weekday (0 = Monday) or None for "no preference"."""
    text = str(raw or "").strip()
    return int(text) if text in {str(day) for day in range(7)} else None


class SingleAppointmentForm(FlaskForm):
    patient_id = IntegerField("Patient", validators=[DataRequired(message="Choose a patient."), ID_RANGE])
    chair_id = IntegerField("Chair", validators=[DataRequired(message="Choose a chair."), ID_RANGE])
    start = StringField("Start", validators=[DataRequired(message="Enter a start like 2027-01-12T09:00+01:00.")])
    duration_minutes = IntegerField("Chair time (minutes)", validators=[DataRequired(), NumberRange(5, 720)])
    protocol_code = StringField("Protocol", validators=[Optional(), Length(max=64)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def validate_start(self, field: StringField) -> None:
        try:
            value = datetime.fromisoformat(field.data or "")
        except ValueError:
            raise ValidationError("Use an ISO 8601 instant like 2027-01-12T09:00:00+01:00.") from None
        if value.tzinfo is None:
            raise ValidationError("The start needs a UTC offset, e.g. +01:00.")
        check_year(value)
        self.start_instant = value


class MoveForm(FlaskForm):
    day = DateField("New date", validators=[DataRequired(message="Enter a date like 2027-01-12.")])

    def validate_day(self, field: DateField) -> None:
        check_year(field.data)
    start_time = TimeField("New start time", validators=[DataRequired(message="Enter a time like 09:30.")])
    chair_id = IntegerField("Chair", validators=[DataRequired(message="Choose a chair."), ID_RANGE])


class GivenForm(FlaskForm):
    day = DateField("Given on", validators=[DataRequired(message="Enter a date like 2027-01-12.")])

    def validate_day(self, field: DateField) -> None:
        check_year(field.data)
    start_time = TimeField("Started at", validators=[DataRequired(message="Enter a time like 09:30.")])


class StatusForm(FlaskForm):
    status = SelectField(
        "New status",
        choices=[SelectChoice(s, s.replace("_", " ")) for s in
                 ("checked_in", "in_chair", "completed", "cancelled", "no_show", "held", "scheduled")],
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=500)],
                         description="Required to cancel or hold.")


def attach_problem(form: FlaskForm, problem: Exception) -> None:
    """Show a service's field errors on the form's fields, the rest above the form."""
    fields = getattr(problem, "fields", {}) or {}
    placed = False
    for name, errors in fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(errors)
            placed = True
    if not placed or getattr(problem, "status", 422) == 409:
        form.form_errors.append(getattr(problem, "message", str(problem)))


class SingleBookingPageForm(FlaskForm):
    """The page version: the patient is given by MRN, the start as shown."""

    mrn = StringField("Patient MRN", validators=[DataRequired(message="Enter the patient's MRN."), Length(max=32)])
    chair_id = IntegerField("Chair", validators=[DataRequired(), ID_RANGE])
    start = StringField("Start", validators=[DataRequired()])
    duration_minutes = IntegerField("Chair time (minutes)", default=60, validators=[DataRequired(), NumberRange(5, 720)])
    protocol_code = StringField("Protocol code (optional)", validators=[Optional(), Length(max=64)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    validate_start = SingleAppointmentForm.validate_start
