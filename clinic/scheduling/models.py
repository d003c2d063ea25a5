"""Sites, chairs, opening hours, closures, treatment series and appointments."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.auth.models import _in
from clinic.database import UTCDateTime, utcnow
from clinic.extensions import db

if TYPE_CHECKING:
    from clinic.patients.models import Patient
    from clinic.protocols.models import Protocol

CHAIR_KINDS = ("chair", "bed")
CLOSURE_SOURCES = ("holiday", "manual")
SERIES_STATUSES = ("active", "stopped", "completed")
APPOINTMENT_STATUSES = (
    "scheduled",
    "checked_in",
    "in_chair",
    "completed",
    "cancelled",
    "no_show",
    "held",
)
#: statuses that free the chair and the patient (they never block a booking)
INACTIVE_STATUSES = ("cancelled", "no_show")


class Site(db.Model):
    __tablename__ = "site"
    __table_args__ = (
        sa.CheckConstraint("slot_minutes IN (5, 10, 15, 20, 30, 60)", name="slot_minutes"),
        sa.CheckConstraint("turnover_minutes >= 0 AND turnover_minutes <= 120", name="turnover_range"),
        sa.CheckConstraint("max_starts_per_slot >= 1", name="max_starts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))  # IANA, e.g. Europe/Berlin
    slot_minutes: Mapped[int] = mapped_column(default=15)
    turnover_minutes: Mapped[int] = mapped_column(default=15)
    max_starts_per_slot: Mapped[int] = mapped_column(default=2)
    holiday_country: Mapped[str | None] = mapped_column(sa.String(2))
    holiday_subdivision: Mapped[str | None] = mapped_column(sa.String(10))

    chairs: Mapped[list[Chair]] = relationship(back_populates="site", order_by="Chair.position")
    hours: Mapped[list[OpeningHours]] = relationship(back_populates="site", order_by="OpeningHours.weekday")


class OpeningHours(db.Model):
    __tablename__ = "opening_hours"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "weekday"),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        sa.CheckConstraint("opens_at < closes_at", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    weekday: Mapped[int]  # 0 = Monday
    opens_at: Mapped[time]
    closes_at: Mapped[time]

    site: Mapped[Site] = relationship(back_populates="hours")


class Chair(db.Model):
    __tablename__ = "chair"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "label"),
        sa.CheckConstraint(_in("kind", CHAIR_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(8), default="chair")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    site: Mapped[Site] = relationship(back_populates="chairs")


class Closure(db.Model):
    __tablename__ = "closure"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "day"),
        sa.CheckConstraint(_in("source", CLOSURE_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"))
    day: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(8), default="manual")


class TreatmentSeries(db.Model):
    """A booked regimen: the rule (protocol version, day 0, preferences)."""

    __tablename__ = "treatment_series"
    __table_args__ = (
        sa.CheckConstraint(_in("status", SERIES_STATUSES), name="status"),
        sa.CheckConstraint(
            "preferred_weekday IS NULL OR (preferred_weekday >= 0 AND preferred_weekday <= 6)",
            name="preferred_weekday_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    protocol_id: Mapped[int] = mapped_column(sa.ForeignKey("protocol.id"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    day0: Mapped[date]
    preferred_weekday: Mapped[int | None]
    preferred_time: Mapped[time | None]
    preferred_chair_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chair.id"))
    # the measures the doses were computed from
    weight_kg: Mapped[float | None]
    height_cm: Mapped[float | None]
    status: Mapped[str] = mapped_column(sa.String(12), default="active")
    stop_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    appointments: Mapped[list[Appointment]] = relationship(
        back_populates="series", order_by="Appointment.start_at"
    )
    patient: Mapped[Patient] = relationship()
    protocol: Mapped[Protocol] = relationship()
    site: Mapped[Site] = relationship()


class Appointment(db.Model):
    """One infusion in one chair; each dose of a series is its own row.

    ``start_at``/``end_at`` is the patient's chair time (infusion plus
    observation). ``chair_free_at`` adds the site's turnover: the chair is
    blocked over [start_at, chair_free_at), the patient over [start_at, end_at).
    The database refuses overlaps of active rows (see the migration).
    """

    __tablename__ = "appointment"
    __table_args__ = (
        sa.CheckConstraint(_in("status", APPOINTMENT_STATUSES), name="status"),
        sa.CheckConstraint("start_at < end_at", name="start_before_end"),
        sa.CheckConstraint("end_at <= chair_free_at", name="end_before_chair_free"),
        sa.CheckConstraint("infusion_minutes >= 0", name="infusion_minutes_positive"),
        sa.CheckConstraint("observation_minutes >= 0", name="observation_minutes_positive"),
        sa.CheckConstraint("earliest IS NULL OR latest IS NULL OR earliest <= latest", name="window_order"),
        sa.Index("ix_appointment_site_id_start_at", "site_id", "start_at"),
        sa.Index("ix_appointment_chair_id_start_at", "chair_id", "start_at"),
        sa.Index("ix_appointment_patient_id_start_at", "patient_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("treatment_series.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    chair_id: Mapped[int] = mapped_column(sa.ForeignKey("chair.id"))
    protocol_id: Mapped[int | None] = mapped_column(sa.ForeignKey("protocol.id"))
    dose_number: Mapped[int | None]
    phase: Mapped[str | None] = mapped_column(sa.String(32))
    course: Mapped[int | None]
    course_day: Mapped[int | None]
    target_date: Mapped[date | None]
    earliest: Mapped[date | None]
    latest: Mapped[date | None]
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    chair_free_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dose_amount: Mapped[float | None]
    dose_unit: Mapped[str | None] = mapped_column(sa.String(8))
    infusion_minutes: Mapped[int] = mapped_column(default=0)
    observation_minutes: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(12), default="scheduled")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actual_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actual_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discharge_override_reason: Mapped[str] = mapped_column(sa.Text, default="")
    administered_amount: Mapped[float | None]
    lot_number: Mapped[str] = mapped_column(sa.String(64), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    series: Mapped[TreatmentSeries | None] = relationship(back_populates="appointments")
    patient: Mapped[Patient] = relationship()
    chair: Mapped[Chair] = relationship()
    protocol: Mapped[Protocol | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status not in INACTIVE_STATUSES
