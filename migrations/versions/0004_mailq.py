"""mail queue: durable, sealed, bound to the record it is about

Revision ID: 0004_mailq
Revises: 0003_identity
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_mailq'
down_revision = '0003_identity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_queue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=16), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('recipient', sa.LargeBinary(), nullable=True),
    sa.Column('subject', sa.LargeBinary(), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=60), nullable=True),
    sa.Column('outbox_name', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_queue_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_queue_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_queue_next_attempt_at'), ['next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_queue_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_mail_queue_status'))
        batch_op.drop_index(batch_op.f('ix_mail_queue_candidate_id'))
    op.drop_table('mail_queue')
