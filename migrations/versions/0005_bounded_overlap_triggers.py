"""SQLite overlap triggers: search only the neighbourhood of the new booking.

Revision 0001's triggers compared a new booking with every earlier row of the
chair (and of the patient): the index range `start_at < end` reaches back to
the first booking ever, so each insert grew slower with years of history. No
chair time is longer than a day, so rows that start more than a day earlier
cannot overlap; the extra bound keeps the index range scan short. PostgreSQL's
exclusion constraints (GiST) need no change. Written by hand.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INACTIVE = "('cancelled', 'no_show')"


def _body(exclude_self: str, bounded: bool) -> str:
    # start_at is stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); datetime() gives
    # 'YYYY-MM-DD HH:MM:SS', which sorts just before the same second: a safe bound.
    near = "AND a.start_at > datetime(NEW.start_at, '-1 day')" if bounded else ""
    return f"""
    BEGIN
      SELECT RAISE(ABORT, 'ex_appointment_chair_overlap') WHERE EXISTS (
        SELECT 1 FROM appointment AS a
        WHERE a.chair_id = NEW.chair_id {exclude_self} {near}
          AND a.status NOT IN {INACTIVE}
          AND a.start_at < NEW.chair_free_at AND NEW.start_at < a.chair_free_at);
      SELECT RAISE(ABORT, 'ex_appointment_patient_overlap') WHERE EXISTS (
        SELECT 1 FROM appointment AS a
        WHERE a.patient_id = NEW.patient_id {exclude_self} {near}
          AND a.status NOT IN {INACTIVE}
          AND a.start_at < NEW.end_at AND NEW.start_at < a.end_at);
    END"""


def _create(bounded: bool) -> None:
    op.execute(
        f"""CREATE TRIGGER tr_appointment_no_overlap_insert BEFORE INSERT ON appointment
        WHEN NEW.status NOT IN {INACTIVE}{_body("", bounded)}"""
    )
    op.execute(
        f"""CREATE TRIGGER tr_appointment_no_overlap_update
        BEFORE UPDATE OF chair_id, patient_id, start_at, end_at, chair_free_at, status ON appointment
        WHEN NEW.status NOT IN {INACTIVE}{_body("AND a.id <> NEW.id", bounded)}"""
    )


def _drop() -> None:
    op.execute("DROP TRIGGER IF EXISTS tr_appointment_no_overlap_insert")
    op.execute("DROP TRIGGER IF EXISTS tr_appointment_no_overlap_update")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _drop()
        _create(bounded=True)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _drop()
        _create(bounded=False)
