"""Forum watchers' emails are queued as one row per new post and written out per watcher by the
worker, so a reply to a much-watched thread costs its request little more than any other reply.

Revision ID: a7c3e9f1b2d4
Revises: f5b2d8c3a1e9
"""
from alembic import op
import sqlalchemy as sa

import kb.types

revision = "a7c3e9f1b2d4"
down_revision = "f5b2d8c3a1e9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "forum_watcher_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subscription_ids", sa.JSON(), nullable=False),
        sa.Column("post_url", sa.String(length=1000), nullable=False),
        sa.Column("unsubscribe_url", sa.String(length=1000), nullable=False),
        sa.Column("created_at", kb.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["forum_posts.id"], name=op.f("fk_forum_watcher_mailings_post_id_forum_posts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_watcher_mailings")),
    )
    op.create_index(op.f("ix_forum_watcher_mailings_post_id"), "forum_watcher_mailings", ["post_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_forum_watcher_mailings_post_id"), table_name="forum_watcher_mailings")
    op.drop_table("forum_watcher_mailings")
