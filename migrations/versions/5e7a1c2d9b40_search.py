"""Search: a cursor per index on the outbox, so several hosts' indexes each see every change.

Revision ID: 5e7a1c2d9b40
Revises: a1d2m3staff
"""
from alembic import op
import sqlalchemy as sa

import kb.types

revision = '5e7a1c2d9b40'
down_revision = "a1d2m3staff"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_cursors',
    sa.Column('index_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('seen', kb.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('index_id', name=op.f('pk_search_cursors'))
    )


def downgrade():
    op.drop_table('search_cursors')
