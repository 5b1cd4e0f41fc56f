"""organisation domains, admin audit list, email verification, the case update clock, case notifications

Revision ID: a1d2m3staff
Revises: b7d3e1a5c902
Create Date: 2026-12-01 22:01:42.382354

"""
from alembic import op
import sqlalchemy as sa

import kb.types


# revision identifiers, used by Alembic.
revision = 'a1d2m3staff'
down_revision = 'b7d3e1a5c902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_domains_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_domains')),
    sa.UniqueConstraint('domain', name=op.f('uq_organization_domains_domain'))
    )
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_domains_organization_id'), ['organization_id'], unique=False)

    op.create_table('admin_audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('created_at', kb.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_admin_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_admin_audit_entries_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_admin_audit_entries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit_entries'))
    )
    with op.batch_alter_table('admin_audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_audit_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_audit_entries_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_audit_entries_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('update_clock_started_at', kb.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('update_clock_used', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_update_due_at', kb.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('update_alerted_state', sa.String(length=12), nullable=False, server_default=''))
        batch_op.create_index('ix_cases_status_update_due', ['status', 'next_update_due_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', kb.types.UTCDateTime(timezone=True), nullable=True))
    # Accounts that existed before verification was introduced keep working as they did.
    op.execute("UPDATE users SET email_verified_at = created_at")
    op.create_table('case_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kb.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', kb.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_notifications_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notifications_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['case_events.id'], name=op.f('fk_case_notifications_event_id_case_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notifications'))
    )
    with op.batch_alter_table('case_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_notifications_user_read', ['user_id', 'read_at'], unique=False)


def downgrade():
    with op.batch_alter_table('case_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_case_notifications_user_read')
        batch_op.drop_index(batch_op.f('ix_case_notifications_case_id'))

    op.drop_table('case_notifications')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_update_due')
        batch_op.drop_column('update_alerted_state')
        batch_op.drop_column('next_update_due_at')
        batch_op.drop_column('update_clock_used')
        batch_op.drop_column('update_clock_started_at')

    with op.batch_alter_table('admin_audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_audit_entries_user_id'))
        batch_op.drop_index(batch_op.f('ix_admin_audit_entries_organization_id'))
        batch_op.drop_index(batch_op.f('ix_admin_audit_entries_created_at'))

    op.drop_table('admin_audit_entries')
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_domains_organization_id'))

    op.drop_table('organization_domains')
