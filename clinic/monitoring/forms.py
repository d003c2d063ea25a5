"""The nurse's infusion record: one form per step, shared by the page and the API.

The API validates an observation with the form of its phase (``PHASE_FORMS``),
so the page and the API accept and refuse exactly the same values.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import Field, FloatField, IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.form import Form
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.domain.monitoring import ctcae_label
from clinic.monitoring.models import OBSERVATION_PHASES
from clinic.scheduling.forms import check_year

SYMPTOMS = (
    ("flushing", "Flushing"),
    ("rash", "Rash / urticaria"),
    ("itching", "Itching"),
    ("fever_chills", "Fever / chills"),
    ("headache", "Headache"),
    ("nausea", "Nausea"),
    ("dyspnoea", "Dyspnoea / wheeze"),
    ("chest_tightness", "Chest tightness"),
    ("hypotension", "Hypotension"),
    ("back_pain", "Back pain"),
    ("other", "Other (describe in notes)"),
)
SYMPTOM_LABELS = dict(SYMPTOMS)
#: the measurements of which an observation needs at least one
READINGS = ("temperature_c", "heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "spo2",
            "weight_kg", "active_infection", "reaction_grade")
LATER = "Leave empty to use the current time."


class Between:
    """Accept a finite number from ``low`` to ``high``, both included."""

    def __init__(self, low: float, high: float, message: str) -> None:
        self.low, self.high, self.message = low, high, message

    def __call__(self, form: Form, field: Any) -> None:
        value = field.data
        if value is not None and not (math.isfinite(value) and self.low <= value <= self.high):
            raise ValidationError(self.message)


def yes_no(value: Any) -> bool | None:
    """Read a yes/no answer ("yes", "no", a JSON boolean); empty is None."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text in ("yes", "y", "true", "on", "1"):
        return True
    if text in ("no", "n", "false", "off", "0"):
        return False
    raise ValueError("Answer yes or no.")


class YesNoField(RadioField):
    """A yes/no question as two large radio buttons; unanswered is None."""

    def __init__(self, label: str, description: str = "", **kwargs: Any) -> None:
        super().__init__(label, [Optional()], choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
                         coerce=yes_no, description=description, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = yes_no(valuelist[0])  # its ValueError says "Answer yes or no."


class GradeField(RadioField):
    """The CTCAE v5 grade 0-5 as radio buttons labelled with the grade's definition."""

    def __init__(self, label: str, description: str = "", **kwargs: Any) -> None:
        super().__init__(label, [Optional(), Between(0, 5, "CTCAE grade must be 0–5.")], coerce=int,
                         choices=[SelectChoice(str(grade), ctcae_label(grade)) for grade in range(6)],
                         validate_choice=False, description=description, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and str(valuelist[0]).strip():
            try:
                self.data = int(valuelist[0])
            except ValueError:
                raise ValueError("CTCAE grade must be a whole number 0–5.") from None


class InstantField(StringField):
    """An ISO 8601 instant; without an offset it is read in the form's zone (the page's time inputs)."""

    instant: datetime | None = None

    def pre_validate(self, form: Form) -> None:
        self.instant = None
        text = (self.data or "").strip()
        if not text:
            return
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError("Use a date and time like 2027-01-12T09:30.") from None
        if value.tzinfo is None:
            zone = getattr(form, "zone", None)
            if zone is None:
                raise ValidationError("Needs a UTC offset, e.g. 2027-01-12T09:30:00+01:00.")
            value = value.replace(tzinfo=zone)
        check_year(value)
        self.instant = value


class NumberField(FloatField):
    """A decimal number shown as typed, or without a needless ".0" (1200, not 1200.0)."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return f"{self.data:f}".rstrip("0").rstrip(".") if self.data is not None else ""


class RecordForm(FlaskForm):
    """A step of the record; ``zone`` is the site's, for times typed without an offset."""

    def __init__(self, *args: Any, zone: ZoneInfo | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone


def _reading(kind: type[Field], label: str, low: float, high: float, message: str, **kwargs: Any) -> Any:
    """Return an optional number field accepting ``low``–``high``."""
    return kind(label, validators=[Optional(), Between(low, high, message)], **kwargs)


def _given(value: Any) -> bool:
    return value is not None and value != [] and value != ""


class VitalsForm(RecordForm):
    """One set of vital signs (NEWS2 parameters)."""

    recorded_at = InstantField("Time taken", validators=[Optional()], description=LATER)
    temperature_c = _reading(NumberField, "Temperature (°C)", 30, 45, "Temperature must be 30–45 °C.")
    heart_rate = _reading(IntegerField, "Heart rate (/min)", 20, 250, "Heart rate must be 20–250/min.")
    systolic_bp = _reading(IntegerField, "Systolic BP (mmHg)", 50, 260, "Systolic BP must be 50–260 mmHg.")
    diastolic_bp = _reading(IntegerField, "Diastolic BP (mmHg)", 20, 160, "Diastolic BP must be 20–160 mmHg.")
    respiratory_rate = _reading(IntegerField, "Respiratory rate (/min)", 4, 60, "Respiratory rate must be 4–60/min.")
    spo2 = _reading(IntegerField, "SpO₂ (%)", 50, 100, "SpO₂ must be 50–100 %.")
    consciousness_alert = YesNoField("Alert?", "No = new confusion or any response below alert (NEWS2 scores 3).")
    on_oxygen = YesNoField("On supplemental oxygen?")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def validate_diastolic_bp(self, field: IntegerField) -> None:
        systolic = self.systolic_bp.data
        if field.data is not None and systolic is not None and not self.systolic_bp.errors and field.data >= systolic:
            raise ValidationError("Diastolic BP must be below systolic BP.")

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate the fields, then require at least one measurement."""
        if not super().validate(extra_validators):
            return False
        if not any(_given(self[name].data) for name in READINGS if name in self):
            self.form_errors.append("Enter at least one measurement.")
            return False
        return True


class PreCheckForm(VitalsForm):
    """Step 2: vitals, weight and the infection question before the dose."""

    weight_kg = _reading(NumberField, "Weight (kg)", 1, 400, "Weight must be 1–400 kg.",
                         description="Weight-based doses depend on it; it updates the patient's record.")
    active_infection = YesNoField("Active infection or fever in the last days?",
                                  "Yes raises a critical flag: hold and inform the prescriber.")


class ReactionForm(VitalsForm):
    """Vitals plus an infusion reaction: CTCAE grade, symptoms, actions."""

    reaction_grade = GradeField("Infusion reaction (CTCAE v5)",
                                "Grade 3 or more raises a do-not-rechallenge flag on later doses of this drug.")
    symptoms = SelectMultipleField("Symptoms", choices=[SelectChoice(code, label) for code, label in SYMPTOMS],
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    actions = TextAreaField("Actions taken", validators=[Optional(), Length(max=2000)],
                            description="E.g. infusion paused, antihistamine given, prescriber informed.")


class DuringForm(ReactionForm):
    """Step 4: vitals during the infusion (repeatable), with any reaction."""


class PostObservationForm(ReactionForm):
    """Step 6: the post-infusion observation with the CTCAE grade (0 = no reaction)."""


class CheckInForm(FlaskForm):
    """Step 1: the patient has arrived (the time is now)."""


class StartForm(RecordForm):
    """Step 3: the infusion starts."""

    started_at = InstantField("Actual start", validators=[Optional()], description=LATER)


class EndForm(RecordForm):
    """Step 5: the infusion ends; the observation time starts."""

    ended_at = InstantField("Actual end", validators=[Optional()], description=LATER)


class CompleteForm(RecordForm):
    """Step 7: discharge with the dose given and its lot number."""

    administered_amount = NumberField("Amount given", validators=[
        InputRequired(message="Enter the amount given."), Between(0.001, 100000, "Enter an amount above 0.")])
    lot_number = StringField("Lot number", validators=[DataRequired(message="Enter the lot number."), Length(max=64)])
    discharged_at = InstantField("Discharged at", validators=[Optional()], description=LATER)
    override_reason = TextAreaField("Reason to discharge early", validators=[Optional(), Length(max=500)],
                                    description="Required when the observation time is not over yet.")


class PhaseForm(Form):
    """The phase an API observation belongs to."""

    phase = StringField("Phase")

    def validate_phase(self, field: StringField) -> None:
        if field.data not in OBSERVATION_PHASES:
            raise ValidationError("Use one of pre, during, post.")


PHASE_FORMS: dict[str, type[VitalsForm]] = {"pre": PreCheckForm, "during": DuringForm, "post": PostObservationForm}
#: every value an observation can carry (record_observation's keys)
OBSERVATION_FIELDS = ("temperature_c", "heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "spo2",
                      "consciousness_alert", "on_oxygen", "notes", "weight_kg", "active_infection",
                      "reaction_grade", "symptoms", "actions")


def observation_values(form: VitalsForm, phase: str) -> dict[str, Any]:
    """Return the values ``record_observation`` takes from a validated step form."""
    values: dict[str, Any] = {name: form[name].data for name in OBSERVATION_FIELDS if name in form}
    values["phase"] = phase
    values["recorded_at"] = form.recorded_at.instant
    return values


#: the page's step forms; each renders with its step as field prefix, so ids stay unique on the page
STEP_FORMS: dict[str, type[FlaskForm]] = {
    "check_in": CheckInForm, "precheck": PreCheckForm, "start": StartForm, "during": DuringForm,
    "end": EndForm, "post": PostObservationForm, "complete": CompleteForm,
}


def step_form(step: str, zone: ZoneInfo, submitted: bool = False, **kwargs: Any) -> FlaskForm:
    """Return a step's form, bound to the posted data only when ``submitted``."""
    form_class = STEP_FORMS[step]
    if not submitted:
        kwargs["formdata"] = None
    if issubclass(form_class, RecordForm):
        kwargs["zone"] = zone
    return form_class(prefix=step, **kwargs)
