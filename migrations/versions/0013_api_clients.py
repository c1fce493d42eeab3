"""api_client: the systems that call /api/v1, with a keyed hash of their secret

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


def downgrade():
    op.drop_index('ix_api_client_key_id', table_name='api_client')
    op.drop_table('api_client')
