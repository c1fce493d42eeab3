"""candidate.language: the language mails to the person are written in

Revision ID: 0008_i18n
Revises: 0007_spontaneous
Create Date: 2026-11-27 05:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_i18n'
down_revision = '0007_spontaneous'
branch_labels = None
depends_on = None


def upgrade():
    # Records from before had English pages and mails: they keep English.
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=False,
                                      server_default='en'))


def downgrade():
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('language')
