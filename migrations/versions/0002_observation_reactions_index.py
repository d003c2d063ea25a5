"""Index observations that record a reaction (partial: grade >= 1).

Flag rules look up a patient's reactions of any age through it. Reviewed by
hand: a plain index creation, no table rebuild on SQLite.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 07:22:32.960238

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_reactions', ['appointment_id', 'reaction_grade'], unique=False, postgresql_where=sa.text('reaction_grade >= 1'), sqlite_where=sa.text('reaction_grade >= 1'))



def downgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_reactions', postgresql_where=sa.text('reaction_grade >= 1'), sqlite_where=sa.text('reaction_grade >= 1'))

