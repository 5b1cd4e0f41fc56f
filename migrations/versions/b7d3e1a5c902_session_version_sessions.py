"""users.session_version: a per-user number inside every login identity, raised to revoke them

Revision ID: b7d3e1a5c902
Revises: a3c1e0d9b7f2
Create Date: 2026-12-01 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d3e1a5c902'
down_revision = 'a3c1e0d9b7f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
