"""Admin edit of a protocol: texts plus the regimen and screenings as TOML."""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

RULE_KEYS = ("regimen", "screenings", "monitoring")


def rules_toml(entry: dict[str, Any]) -> str:
    """Return the regimen, screenings and monitoring of an entry as TOML."""
    return tomli_w.dumps({key: entry[key] for key in RULE_KEYS if key in entry})


class ProtocolForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    premedication = TextAreaField("Premedication", validators=[Length(max=4000)])
    observation_text = TextAreaField("Observation", validators=[Length(max=4000)])
    reaction_notes = TextAreaField("Infusion-reaction notes", validators=[Length(max=4000)])
    infection_notes = TextAreaField("Infection and safety notes", validators=[Length(max=4000)])
    notes = TextAreaField("Source notes", validators=[Length(max=8000)])
    rules = TextAreaField(
        "Regimen, screenings and monitoring (TOML)",
        validators=[DataRequired(), Length(max=40000)],
        description="The [regimen] table, [[screenings]] and [monitoring] as in clinic/protocols/catalog.toml.",
    )

    def validate_rules(self, field: TextAreaField) -> None:
        try:
            parsed = tomllib.loads(field.data or "")
        except tomllib.TOMLDecodeError as error:
            raise ValidationError(f"Not valid TOML: {error}") from None
        unknown = sorted(set(parsed) - set(RULE_KEYS))
        if unknown:
            raise ValidationError(f"Only {', '.join(RULE_KEYS)} belong here, not {', '.join(unknown)}.")
        if "regimen" not in parsed:
            raise ValidationError("A [regimen] table is required.")
        self.parsed_rules = parsed

    def entry(self, base: dict[str, Any]) -> dict[str, Any]:
        """Return ``base`` with this form's values applied."""
        entry = {k: v for k, v in base.items() if k not in RULE_KEYS}
        for name in ("name", "premedication", "observation_text", "reaction_notes", "infection_notes", "notes"):
            entry[name] = (getattr(self, name).data or "").strip()
        entry.update(self.parsed_rules)
        return entry
