"""Page cache: one change counter per kind of content, so every worker sees a change within a second.

Revision ID: c4a7e19d2b58
Revises: c4f1d2e3a5b6
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4a7e19d2b58'
down_revision = "c4f1d2e3a5b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('change_counters',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_change_counters'))
    )


def downgrade():
    op.drop_table('change_counters')
