"""keyring_state: the keyring generation that running workers follow

Revision ID: 0006_keys
Revises: 0005_audit
Create Date: 2026-11-27 05:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_keys'
down_revision = '0005_audit'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'keyring_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('retired', sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # The single row exists from the start, so workers read it with one primary-key
    # lookup and the commands only ever update it.
    op.bulk_insert(table, [{'id': 1, 'generation': 0, 'retired': ''}])


def downgrade():
    op.drop_table('keyring_state')
