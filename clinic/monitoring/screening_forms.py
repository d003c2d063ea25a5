"""Forms for screenings, flag acknowledgements and rechallenge clearances (pages and API)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from clinic.scheduling.forms import ID_RANGE

from clinic.domain.monitoring import screening_name
from clinic.domain.policy import SCREENING_TESTS
from clinic.patients.models import SCREENING_RESULTS

EARLIEST_COLLECTED_ON = date(1990, 1, 1)
#: plausible values per test (inclusive); other tests accept any value from 0 to the default's top
VALUE_RANGES: dict[str, tuple[float, float, str]] = {
    "cbc": (0, 100, "×10⁹/L neutrophils"),
    "jcv": (0, 20, "index"),
    "igg": (0, 100, "g/L"),
    "iga": (0, 50, "g/L"),
}
DEFAULT_RANGE = (0.0, 100_000.0, "")
VALUE_HELP = (
    "The number the lab reported, if any: for CBC the neutrophil count (×10⁹/L), "
    "for anti-JCV the antibody index, for IgG and IgA the level in g/L. Leave empty otherwise."
)


def _test_label(code: str) -> str:
    name = screening_name(code)
    return name[:1].upper() + name[1:]


class ScreeningForm(FlaskForm):
    """A screening result as a nurse records it."""

    test = SelectField(
        "Test",
        choices=[SelectChoice("", "Choose a test")] + [SelectChoice(code, _test_label(code)) for code in SCREENING_TESTS],
        validators=[DataRequired(message="Choose the test.")],
    )
    result = SelectField(
        "Result",
        choices=[SelectChoice("", "Choose a result")] + [SelectChoice(r, r.capitalize()) for r in SCREENING_RESULTS],
        validators=[DataRequired(message="Choose the result.")],
        description="“Done” for a test or vaccination without a positive/negative reading.",
    )
    value = FloatField("Value", validators=[Optional()], description=VALUE_HELP)
    collected_on = DateField(
        "Collected on",
        validators=[DataRequired(message="Enter the collection date like 2027-01-12.")],
        description="The day the sample was taken (or the vaccine given), not the day the result came.",
    )
    notes = TextAreaField("Notes", filters=[lambda v: v.strip() if isinstance(v, str) else v],
                          validators=[Length(max=2000)])

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or date.today()

    def validate_collected_on(self, field: DateField) -> None:
        """Refuse dates in the future or before 1990."""
        if field.data is None:
            return
        if field.data > self.today:
            raise ValidationError("The collection date cannot be in the future.")
        if field.data < EARLIEST_COLLECTED_ON:
            raise ValidationError("The collection date cannot be before 1990.")

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate the fields, then the value against the range of the chosen test."""
        valid = super().validate(extra_validators)
        value = self.value.data
        if value is None or self.value.errors:
            return valid
        low, high, unit = VALUE_RANGES.get(self.test.data or "", DEFAULT_RANGE)
        if not low <= value <= high:  # also refuses NaN
            what = f" {unit}" if unit else ""
            self.value.errors.append(f"Must be {low:g}–{high:g}{what} for this test.")
            return False
        return valid


class RechallengeForm(FlaskForm):
    """A prescriber's clearance to give a drug again after a severe reaction."""

    note = TextAreaField(
        "Clearance note",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(message="Write who cleared the rechallenge and on what terms."), Length(max=2000)],
        description="Who cleared it and on what terms (premedication, slower rate).",
    )


class AcknowledgeForm(FlaskForm):
    """The hidden fields behind one "Acknowledge" button."""

    appointment_id = IntegerField("Appointment", validators=[DataRequired(), ID_RANGE])
    key = StringField("Flag", validators=[DataRequired(), Length(max=200)])
    site_id = IntegerField("Site", validators=[Optional(), ID_RANGE])
    day = DateField("Day", validators=[Optional()])
