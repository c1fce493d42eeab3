"""erasure: pending scrubs, FTS5 secure-delete

Revision ID: 0002_erasure
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_erasure'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_scrub',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.dialect.dbapi.sqlite_version_info >= (3, 42):
        # Deleting a record then removes its tokens from the index pages themselves,
        # instead of leaving them behind a tombstone until the next merge.
        op.execute("INSERT INTO candidate_search(candidate_search, rank) "
                   "VALUES ('secure-delete', 1)")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.dialect.dbapi.sqlite_version_info >= (3, 42):
        op.execute("INSERT INTO candidate_search(candidate_search, rank) "
                   "VALUES ('secure-delete', 0)")
    op.drop_table('pending_scrub')
