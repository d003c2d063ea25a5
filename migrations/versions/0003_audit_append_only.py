"""Make audit_event append-only: the database refuses UPDATE and DELETE.

Written by hand (autogenerate does not see triggers). PostgreSQL: one
trigger function raising for UPDATE, DELETE and TRUNCATE. SQLite: BEFORE
UPDATE / BEFORE DELETE triggers with RAISE(ABORT). Dropping the table (the
downgrade of 0001) drops the triggers with it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

MESSAGE = "audit_event is append-only"

PG_UPGRADE = [
    f"""CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END
        $$""",
    """CREATE TRIGGER tr_audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER tr_audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]
PG_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS tr_audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS tr_audit_event_append_only ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]

SQLITE_UPGRADE = [
    f"""CREATE TRIGGER tr_audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END""",
    f"""CREATE TRIGGER tr_audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END""",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS tr_audit_event_no_delete",
    "DROP TRIGGER IF EXISTS tr_audit_event_no_update",
]


def _statements(postgresql: list[str], sqlite: list[str]) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql
    if dialect == "sqlite":
        return sqlite
    return []


def upgrade():
    # Note: a later batch ALTER of audit_event on SQLite recreates the table
    # and drops these triggers; such a revision must recreate them.
    for statement in _statements(PG_UPGRADE, SQLITE_UPGRADE):
        op.execute(statement)


def downgrade():
    for statement in _statements(PG_DOWNGRADE, SQLITE_DOWNGRADE):
        op.execute(statement)
