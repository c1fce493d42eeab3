"""note.company: notes belong to the company that wrote them

Revision ID: 0005_audit
Revises: 0004_mailq
Create Date: 2026-11-27 04:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_audit'
down_revision = '0004_mailq'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company', sa.String(length=40), nullable=True))
    # Existing notes belong to their recruiter's company; notes by the officer (or by an
    # author no longer known) stay with the officer only.
    op.execute(sa.text(
        'UPDATE note SET company = (SELECT "user".company FROM "user" '
        'WHERE "user".id = note.author_id AND "user".role = \'recruiter\')'))


def downgrade():
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.drop_column('company')
