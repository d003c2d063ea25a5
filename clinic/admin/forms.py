"""Admin forms: site settings with opening hours, chairs, closures."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, Form, FormField, IntegerField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from clinic.scheduling.models import CHAIR_KINDS
from clinic.scheduling.forms import check_year

SLOT_MINUTES = (5, 10, 15, 20, 30, 60)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SITE_FIELDS = (
    "name", "timezone", "slot_minutes", "turnover_minutes", "max_starts_per_slot",
    "holiday_country", "holiday_subdivision",
)
#: a new site opens Monday to Friday, 08:00-18:00
DEFAULT_HOURS = {weekday: (time(8), time(18)) for weekday in range(5)}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Return the IANA time zone names, sorted."""
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=1)
def holiday_countries() -> dict[str, tuple[str, ...]]:
    """Return {ISO two-letter country: its subdivision codes} that `holidays` knows."""
    supported = holidays.list_supported_countries()
    return {code: tuple(subdivs) for code, subdivs in supported.items() if len(code) == 2}


def canonical_time_zone(name: str) -> str | None:
    """Return the IANA name ``name`` refers to (any letter case), or None."""
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        matches = [zone for zone in time_zone_names() if zone.lower() == name.lower()]
        return matches[0] if matches else None
    return name


def _when_open(form: Form, field: Field) -> None:
    """Skip the times of a closed day; require them on an open one."""
    if not form.open.data:
        field.errors[:] = []
        raise StopValidation()
    if not field.raw_data or not str(field.raw_data[0]).strip():
        field.errors[:] = []
        raise StopValidation(f"Enter when it {field.name.rsplit('-', 1)[-1]}, like 08:00.")


class DayHoursForm(Form):
    """One weekday: open or not, and when."""

    open = BooleanField("Open")
    opens = TimeField("Opens", validators=[_when_open], format=["%H:%M", "%H:%M:%S"])
    closes = TimeField("Closes", validators=[_when_open], format=["%H:%M", "%H:%M:%S"])

    def validate_closes(self, field: TimeField) -> None:
        if self.opens.data and field.data and field.data <= self.opens.data:
            raise ValidationError("Closing time must be after the opening time.")


class SiteForm(FlaskForm):
    name = StringField("Site name", filters=[_strip], validators=[DataRequired(), Length(max=120)])
    timezone = StringField(
        "Time zone", filters=[_strip], validators=[DataRequired(), Length(max=64)],
        description="IANA name, like Europe/Berlin. Every date and time of this site is shown in it.",
    )
    slot_minutes = SelectField(
        "Slot length", coerce=int, validate_choice=False,
        choices=[SelectChoice(m, f"{m} minutes") for m in SLOT_MINUTES],
        validators=[InputRequired(), AnyOf(SLOT_MINUTES, message="Choose 5, 10, 15, 20, 30 or 60 minutes.")],
        description="The step of the schedule grid and of booking start times.",
    )
    turnover_minutes = IntegerField(
        "Turnover (minutes)",
        validators=[InputRequired("Enter the turnover in minutes (0–120)."),
                    NumberRange(0, 120, message="Turnover must be 0–120 minutes.")],
        description="Cleaning and preparation time a chair stays blocked after each patient.",
    )
    max_starts_per_slot = IntegerField(
        "Max infusion starts per slot",
        validators=[InputRequired("Enter how many infusions may start per slot (1–50)."),
                    NumberRange(1, 50, message="Max starts per slot must be 1–50.")],
        description="Nurse start capacity: how many infusions the nurses can start in the same slot.",
    )
    holiday_country = StringField(
        "Holiday country", filters=[_upper], validators=[Optional()],
        description="ISO two-letter code, like DE. Used to load public holidays as closures.",
    )
    holiday_subdivision = StringField(
        "Holiday subdivision", filters=[_strip], validators=[Optional()],
        description="State or region code, like BE for Berlin. Leave empty for national holidays only.",
    )
    mon = FormField(DayHoursForm, "Monday")
    tue = FormField(DayHoursForm, "Tuesday")
    wed = FormField(DayHoursForm, "Wednesday")
    thu = FormField(DayHoursForm, "Thursday")
    fri = FormField(DayHoursForm, "Friday")
    sat = FormField(DayHoursForm, "Saturday")
    sun = FormField(DayHoursForm, "Sunday")

    def validate_timezone(self, field: StringField) -> None:
        canonical = canonical_time_zone(field.data or "")
        if canonical is None:
            raise ValidationError(f"“{field.data}” is not a time zone we know. Use an IANA name like Europe/Berlin.")
        field.data = canonical

    def validate_holiday_country(self, field: StringField) -> None:
        if field.data not in holiday_countries():
            raise ValidationError(f"“{field.data}” is not a supported country. Use an ISO two-letter code like DE.")

    def validate_holiday_subdivision(self, field: StringField) -> None:
        country = self.holiday_country.data
        if not field.data:
            return
        if not country or self.holiday_country.errors:
            raise ValidationError("Choose a valid holiday country first.")
        known = {code.lower(): code for code in holiday_countries()[country]}
        if field.data.lower() not in known or len(field.data) > 10:
            hint = ", ".join(sorted(known.values())[:20]) or "none"
            raise ValidationError(f"{country} has no subdivision “{field.data}”. Known: {hint}.")
        field.data = known[field.data.lower()]

    @property
    def days(self) -> list[FormField]:
        """Return the weekday subforms, Monday first."""
        return [self[name] for name in WEEKDAY_FIELDS]

    def settings(self) -> dict[str, Any]:
        """Return the site's column values (empty codes as None)."""
        values = {name: self[name].data for name in SITE_FIELDS}
        values["holiday_country"] = values["holiday_country"] or None
        values["holiday_subdivision"] = values["holiday_subdivision"] or None
        return values

    def hours(self) -> dict[int, tuple[time, time]]:
        """Return {weekday: (opens, closes)} for the open days."""
        return {
            weekday: (day.form.opens.data, day.form.closes.data)
            for weekday, day in enumerate(self.days)
            if day.form.open.data
        }


def site_form_data(settings: dict[str, Any], hours: dict[int, tuple[time, time]]) -> dict[str, Any]:
    """Return the initial data of a SiteForm for these settings and hours."""
    data = {name: value for name, value in settings.items() if name in SITE_FIELDS}
    for weekday, name in enumerate(WEEKDAY_FIELDS):
        opens, closes = hours.get(weekday, (None, None))
        data[name] = {"open": weekday in hours, "opens": opens, "closes": closes}
    return data


class ChairForm(FlaskForm):
    label = StringField(
        "Label", filters=[_strip], validators=[DataRequired("Enter a label, like Chair 7."), Length(max=40)],
        description="Unique at this site; staff see it on the schedule.",
    )
    kind = SelectField(
        "Kind", choices=[SelectChoice(kind, kind.capitalize()) for kind in CHAIR_KINDS],
        validators=[DataRequired()],
    )


class ClosureForm(FlaskForm):
    day = DateField("Date", validators=[InputRequired("Enter a date like 2027-01-12.")])

    def validate_day(self, field: DateField) -> None:
        check_year(field.data)
    reason = StringField(
        "Reason", filters=[_strip], validators=[DataRequired("Say why the site is closed."), Length(max=200)],
        description="Shown on the schedule and in booking previews.",
    )
