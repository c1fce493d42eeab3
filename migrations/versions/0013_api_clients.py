"""api_client: the systems that call /api/v1, with a keyed hash of their secret;
api_idempotency: the first answer to a POST with an Idempotency-Key (no personal data)

Revision ID: 0013_api_clients
Revises: 0012_prefix_tokens
Create Date: 2026-11-27 10:45:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_api_clients'
down_revision = '0012_prefix_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_client',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('company', sa.String(length=40), nullable=False),
        sa.Column('scopes', sa.Text(), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('secret_hash', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_api_client_key_id', 'api_client', ['key_id'], unique=True)
    op.create_table(
        'api_idempotency',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('request_hash', sa.String(length=80), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('response_body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id', 'key_hash'),
    )
    op.create_index('ix_api_idempotency_created_at', 'api_idempotency', ['created_at'])


def downgrade():
    op.drop_index('ix_api_idempotency_created_at', table_name='api_idempotency')
    op.drop_table('api_idempotency')
    op.drop_index('ix_api_client_key_id', table_name='api_client')
    op.drop_table('api_client')
