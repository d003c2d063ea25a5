"""Patients, their diagnoses and screening results."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.auth.models import _in
from clinic.database import UTCDateTime, utcnow
from clinic.domain.policy import SCREENING_TESTS
from clinic.extensions import db

SEXES = ("female", "male", "other", "unknown")
SCREENING_RESULTS = ("negative", "positive", "indeterminate", "done")


class Patient(db.Model):
    __tablename__ = "patient"
    __table_args__ = (
        sa.CheckConstraint(_in("sex", SEXES), name="sex"),
        sa.CheckConstraint("weight_kg IS NULL OR (weight_kg >= 1 AND weight_kg <= 400)", name="weight_range"),
        sa.CheckConstraint("height_cm IS NULL OR (height_cm >= 30 AND height_cm <= 250)", name="height_range"),
        sa.Index("ix_patient_family_name_given_name", "family_name", "given_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(sa.String(32), unique=True)
    given_name: Mapped[str] = mapped_column(sa.String(80))
    family_name: Mapped[str] = mapped_column(sa.String(80))
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(sa.String(8))
    weight_kg: Mapped[float | None]
    height_cm: Mapped[float | None]
    measured_on: Mapped[date | None]
    allergies: Mapped[str] = mapped_column(sa.Text, default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(120), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    diagnoses: Mapped[list[Diagnosis]] = relationship(
        back_populates="patient", order_by="Diagnosis.id", cascade="all, delete-orphan"
    )
    screenings: Mapped[list[Screening]] = relationship(
        back_populates="patient", order_by="Screening.collected_on.desc()", cascade="all, delete-orphan"
    )

    @property
    def name(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Diagnosis(db.Model):
    __tablename__ = "diagnosis"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(10))  # ICD-10, e.g. "M05.79"
    label: Mapped[str] = mapped_column(sa.String(200))
    since: Mapped[date | None]

    patient: Mapped[Patient] = relationship(back_populates="diagnoses")


class Screening(db.Model):
    __tablename__ = "screening"
    __table_args__ = (
        sa.CheckConstraint(_in("test", SCREENING_TESTS), name="test"),
        sa.CheckConstraint(_in("result", SCREENING_RESULTS), name="result"),
        sa.Index("ix_screening_patient_id_test_collected_on", "patient_id", "test", "collected_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id", ondelete="CASCADE"))
    test: Mapped[str] = mapped_column(sa.String(32))
    result: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[float | None]  # e.g. JCV index, IgG g/L, neutrophils 10^9/L
    collected_on: Mapped[date]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="screenings")
