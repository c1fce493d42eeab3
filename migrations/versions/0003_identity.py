"""identity: confirmed e-mail addresses, pending e-mail changes, link generations

Revision ID: 0003_identity
Revises: 0002_erasure
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_identity'
down_revision = '0002_erasure'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('link_generation', sa.Integer(), server_default='0',
                                      nullable=False))
    # Records that exist already keep their grouping: they count as confirmed from the
    # day they were created (imports made before this revision included).
    op.execute("UPDATE candidate SET email_confirmed_at = created_at")
    op.create_table('email_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=16), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('new_email', sa.LargeBinary(), nullable=False),
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=20), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('email_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_change_candidate_id'), ['candidate_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_email_change_expires_at'), ['expires_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('email_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_change_expires_at'))
        batch_op.drop_index(batch_op.f('ix_email_change_candidate_id'))
    op.drop_table('email_change')
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('link_generation')
        batch_op.drop_column('email_confirmed_at')
