"""Users carry a page version: raised by every change to what their own pages show (their likes,
watches, notifications, profile), so a page cached for one signed-in user is served again only while
it is unchanged, at no cost beyond the user row every request reads anyway.

Revision ID: e3a9c5d1f7b2
Revises: d2e6b8f1a4c7
"""
from alembic import op
import sqlalchemy as sa

revision = "e3a9c5d1f7b2"
down_revision = "d2e6b8f1a4c7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("page_version", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("page_version")
