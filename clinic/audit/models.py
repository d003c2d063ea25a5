"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clinic.auth.models import _in
from clinic.database import UTCDateTime, utcnow
from clinic.extensions import db

OUTCOMES = ("success", "failure", "denied")


class AuditEvent(db.Model):
    """One security-relevant event; rows are never updated or deleted.

    ``hash`` chains each row to the previous one (``prev_hash``) so that a
    changed or removed row breaks the chain.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        sa.Index("ix_audit_event_entity_entity_id", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), default="")
    action: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    outcome: Mapped[str] = mapped_column(sa.String(8), default="success")
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    hash: Mapped[str] = mapped_column(sa.String(64), default="")
