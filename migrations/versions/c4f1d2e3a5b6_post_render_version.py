"""Forum posts record which Markdown pipeline rendered them, so a new one re-renders the old posts.

Revision ID: c4f1d2e3a5b6
Revises: c4f8e2a7d1b3
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4f1d2e3a5b6'
down_revision = "c4f8e2a7d1b3"
branch_labels = None
depends_on = None


def upgrade():
    # 0: rendered before versions were recorded, so `kb init` renders every existing post again.
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.drop_column('render_version')
