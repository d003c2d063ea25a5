"""Versioned therapy protocols (the catalog, loaded into the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clinic.database import UTCDateTime, utcnow
from clinic.extensions import db


class Protocol(db.Model):
    """One version of a protocol; editing makes a new row, series keep theirs."""

    __tablename__ = "protocol"
    __table_args__ = (
        sa.UniqueConstraint("code", "version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    drug: Mapped[str] = mapped_column(sa.String(80))
    disease: Mapped[str] = mapped_column(sa.String(120))
    indication: Mapped[str] = mapped_column(sa.Text)
    # the whole catalog entry (regimen, screenings, monitoring, texts)
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    checksum: Mapped[str] = mapped_column(sa.String(64))
    # only the newest version of a code is current for new bookings
    current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
