"""candidate_company: the companies a spontaneous application is for

A spontaneous application names the company (or companies) it is for, and that
company's recruiters see it and set its status like an application to one of its
vacancies (vault.services.access). Company names are not personal data: plaintext.

Existing spontaneous records get no row: they were sent before the form asked, and
guessing a company would show them to recruiters the applicant never chose. They stay
visible as before: to the officer always, and to the recruiters of both companies
through the talent pool while their pool consent is live; nobody sets their status.

Revision ID: 0007_spontaneous
Revises: 0006_keys
Create Date: 2026-11-27 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_spontaneous'
down_revision = '0006_keys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'candidate_company',
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('company', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('candidate_id', 'company'),
    )
    with op.batch_alter_table('candidate_company', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_company_company'), ['company'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('candidate_company', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_company_company'))
    op.drop_table('candidate_company')
