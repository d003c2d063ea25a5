"""Patient, diagnosis forms (used by the HTML pages and the JSON API)."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, ValidationError

from clinic.patients.models import SEXES

ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class PatientForm(FlaskForm):
    mrn = StringField(
        "MRN", filters=[_strip], validators=[DataRequired(), Length(max=32), Regexp(r"^[A-Za-z0-9._/-]+$",
        message="Use letters, digits and . _ / - only.")], description="Medical record number, unique."
    )
    given_name = StringField("Given name", filters=[_strip], validators=[DataRequired(), Length(max=80)])
    family_name = StringField("Family name", filters=[_strip], validators=[DataRequired(), Length(max=80)])
    birth_date = DateField("Birth date", validators=[DataRequired(message="Enter a date like 1980-05-17.")])
    sex = SelectField("Sex", choices=[SelectChoice(s, s.capitalize()) for s in SEXES], validators=[DataRequired()])
    weight_kg = FloatField(
        "Weight (kg)", validators=[Optional(), NumberRange(1, 400, message="Weight must be 1–400 kg.")],
        description="Weight-based doses use this value.",
    )
    height_cm = FloatField(
        "Height (cm)", validators=[Optional(), NumberRange(30, 250, message="Height must be 30–250 cm.")],
        description="Needed for doses per m² (Mosteller).",
    )
    measured_on = DateField("Measured on", validators=[Optional()])
    allergies = TextAreaField("Allergies", filters=[_strip], validators=[Length(max=2000)])
    phone = StringField("Phone", filters=[_strip], validators=[Length(max=40)])
    email = StringField("Email", filters=[_strip], validators=[Optional(), Length(max=120), Email()])

    def validate_birth_date(self, field: DateField) -> None:
        from datetime import date

        if field.data and not date(1900, 1, 1) <= field.data <= date.today():
            raise ValidationError("Birth date must be between 1900 and today.")


class DiagnosisForm(FlaskForm):
    code = StringField(
        "ICD-10 code", filters=[_upper],
        validators=[DataRequired(), Regexp(ICD10.pattern, message="Use an ICD-10 code like G35 or M05.79.")],
    )
    label = StringField("Diagnosis", filters=[_strip], validators=[DataRequired(), Length(max=200)])
    since = DateField("Since", validators=[Optional()])
