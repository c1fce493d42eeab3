"""candidate_index.token_ids: an insert that brings its array keeps it (PostgreSQL)

Revision ID: 0016_given_token_ids
Revises: 0015_pg_search
Create Date: 2026-11-27 15:00:00

The trigger of migration 0015 computes token_ids from tokens in SQL on every insert:
about 0.7 ms of database CPU a record (363 tokens split, matched, translated and cast
one by one), most of a bulk load's time on PostgreSQL. The bulk loader
(vault.services.bulkload) computes the same array in Python, as
vault.services.search.token_id does, and sends it with the row; the trigger now keeps
an array given on INSERT and computes it only when none is given (the ORM's writers
give the tokens alone, and the column's default is the empty array). An UPDATE of the
tokens always recomputes it, so a corrected or reindexed record can never keep the
array of its old tokens. tests/services/test_bulkload.py proves the loader's arrays
equal the ones candidate_token_ids computes.

SQLite is untouched (FTS5).
"""
from alembic import op


revision = '0016_given_token_ids'
down_revision = '0015_pg_search'
branch_labels = None
depends_on = None

KEEP_GIVEN = """
CREATE OR REPLACE FUNCTION candidate_index_token_ids() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND cardinality(NEW.token_ids) > 0 THEN
        RETURN NEW;
    END IF;
    NEW.token_ids := candidate_token_ids(coalesce(NEW.tokens, ''));
    RETURN NEW;
END
$$
"""

ALWAYS_COMPUTE = """
CREATE OR REPLACE FUNCTION candidate_index_token_ids() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.token_ids := candidate_token_ids(coalesce(NEW.tokens, ''));
    RETURN NEW;
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(KEEP_GIVEN)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ALWAYS_COMPUTE)
