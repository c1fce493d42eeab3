"""held_upload: a CV held (sealed) between two tries of the application form

Revision ID: 0010_held_uploads
Revises: 0008_i18n
Create Date: 2026-11-27 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_held_uploads'
down_revision = '0009_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('held_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.LargeBinary(), nullable=False),
    sa.Column('details', sa.LargeBinary(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('has_text', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('held_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_upload_expires_at'), ['expires_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('held_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_upload_expires_at'))
    op.drop_table('held_upload')
