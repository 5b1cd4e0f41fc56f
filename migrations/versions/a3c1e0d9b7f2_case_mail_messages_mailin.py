"""case_mail_messages: Message-IDs already added to a case by email

Revision ID: a3c1e0d9b7f2
Revises: b7e2c41d9a03
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa

import kb.types


revision = 'a3c1e0d9b7f2'
down_revision = 'b7e2c41d9a03'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_mail_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('received_at', kb.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_mail_messages_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['case_events.id'], name=op.f('fk_case_mail_messages_event_id_case_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_mail_messages')),
    sa.UniqueConstraint('case_id', 'message_id', name='uq_case_mail_messages_case_message')
    )


def downgrade():
    op.drop_table('case_mail_messages')
