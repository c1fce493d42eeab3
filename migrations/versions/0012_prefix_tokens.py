"""candidate_index.analysis: which analysis a record's search tokens come from

Revision ID: 0012_prefix_tokens
Revises: 0008_i18n
Create Date: 2026-11-27 08:00:00

Prefix tokens ("pyth" finds Python) are keyed HMACs: a migration has no keys and cannot
compute them. Existing rows are marked 1 (before prefix tokens); `vault reindex` (run
by the upgrade path, after `vault db upgrade`) rewrites them at the current version,
and `vault check` names records still at an older one.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_prefix_tokens'
down_revision = '0011_staff_auth'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, not batch mode: on SQLite batch mode copies the table, which
    # would drop the triggers that keep the FTS5 table candidate_search in step.
    op.add_column('candidate_index', sa.Column('analysis', sa.Integer(), nullable=False,
                                               server_default='1'))


def downgrade():
    # DROP COLUMN in place (SQLite 3.35+), for the same reason.
    op.drop_column('candidate_index', 'analysis')
