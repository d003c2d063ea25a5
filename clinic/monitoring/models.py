"""The nurse's infusion record and flag acknowledgements."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clinic.auth.models import _in
from clinic.database import UTCDateTime, utcnow
from clinic.extensions import db

OBSERVATION_PHASES = ("pre", "during", "post")
FLAG_ACTIONS = ("acknowledged", "cleared")


class Observation(db.Model):
    """Vital signs and reaction grade recorded at one moment of an infusion."""

    __tablename__ = "observation"
    __table_args__ = (
        sa.CheckConstraint(_in("phase", OBSERVATION_PHASES), name="phase"),
        sa.CheckConstraint("temperature_c IS NULL OR (temperature_c >= 30 AND temperature_c <= 45)", name="temperature_range"),
        sa.CheckConstraint("heart_rate IS NULL OR (heart_rate >= 20 AND heart_rate <= 250)", name="heart_rate_range"),
        sa.CheckConstraint("systolic_bp IS NULL OR (systolic_bp >= 50 AND systolic_bp <= 260)", name="systolic_range"),
        sa.CheckConstraint("diastolic_bp IS NULL OR (diastolic_bp >= 20 AND diastolic_bp <= 160)", name="diastolic_range"),
        sa.CheckConstraint(
            "respiratory_rate IS NULL OR (respiratory_rate >= 4 AND respiratory_rate <= 60)", name="respiratory_range"
        ),
        sa.CheckConstraint("spo2 IS NULL OR (spo2 >= 50 AND spo2 <= 100)", name="spo2_range"),
        sa.CheckConstraint("reaction_grade IS NULL OR (reaction_grade >= 0 AND reaction_grade <= 5)", name="grade_range"),
        sa.CheckConstraint("weight_kg IS NULL OR (weight_kg >= 1 AND weight_kg <= 400)", name="weight_range"),
        # reactions are rare: flag rules find a patient's old ones through this
        sa.Index(
            "ix_observation_reactions", "appointment_id", "reaction_grade",
            postgresql_where=sa.text("reaction_grade >= 1"), sqlite_where=sa.text("reaction_grade >= 1"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(sa.String(8))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    temperature_c: Mapped[float | None]
    heart_rate: Mapped[int | None]
    systolic_bp: Mapped[int | None]
    diastolic_bp: Mapped[int | None]
    respiratory_rate: Mapped[int | None]
    spo2: Mapped[int | None]
    weight_kg: Mapped[float | None]
    consciousness_alert: Mapped[bool | None]
    on_oxygen: Mapped[bool | None]
    active_infection: Mapped[bool | None]
    reaction_grade: Mapped[int | None]
    symptoms: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    actions: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FlagAck(db.Model):
    """Who acknowledged (or, for a prescriber, cleared) which flag, and when."""

    __tablename__ = "flag_ack"
    __table_args__ = (
        sa.UniqueConstraint("flag_key", "action"),
        sa.CheckConstraint(_in("action", FLAG_ACTIONS), name="action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_key: Mapped[str] = mapped_column(sa.String(200))
    code: Mapped[str] = mapped_column(sa.String(40))
    action: Mapped[str] = mapped_column(sa.String(16), default="acknowledged")
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointment.id"), index=True)
    acknowledged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(sa.Text, default="")
