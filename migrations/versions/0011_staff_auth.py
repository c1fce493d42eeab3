"""Staff authentication: sessions, password links, second factors, login throttling

Revision ID: 0011_staff_auth
Revises: 0008_i18n
Create Date: 2026-11-27 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_staff_auth'
down_revision = '0010_held_uploads'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch): rebuilding "user" on SQLite would drop a table that
    # notes and other rows point to.
    op.add_column('user', sa.Column('display_name', sa.String(length=120), nullable=False,
                                    server_default=''))
    op.add_column('user', sa.Column('password_changed_at', sa.DateTime(), nullable=True))
    op.add_column('user', sa.Column('totp_secret', sa.LargeBinary(), nullable=True))
    op.add_column('user', sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
    op.add_column('user', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('user', sa.Column('passwordless', sa.Boolean(), nullable=False,
                                    server_default=sa.false()))
    op.create_table(
        'staff_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('user_agent', sa.String(length=80), nullable=False),
        sa.Column('factor', sa.String(length=12), nullable=False),
        sa.Column('verified_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_staff_session_user_id', 'staff_session', ['user_id'])
    op.create_table(
        'staff_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=8), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_staff_token_user_id', 'staff_token', ['user_id'])
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('salt', sa.String(length=32), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recovery_code_user_id', 'recovery_code', ['user_id'])
    op.create_table(
        'webauthn_credential',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.LargeBinary(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credential_id'),
    )
    op.create_index('ix_webauthn_credential_user_id', 'webauthn_credential', ['user_id'])
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_key', sa.String(length=40), nullable=False),
        sa.Column('client_key', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failure_account_key', 'login_failure', ['account_key'])
    op.create_index('ix_login_failure_client_key', 'login_failure', ['client_key'])
    op.create_index('ix_login_failure_created_at', 'login_failure', ['created_at'])


def downgrade():
    for table in ('login_failure', 'webauthn_credential', 'recovery_code', 'staff_token',
                  'staff_session'):
        op.drop_table(table)
    for column in ('passwordless', 'totp_last_step', 'totp_enabled_at', 'totp_secret',
                   'password_changed_at', 'display_name'):
        op.drop_column('user', column)
