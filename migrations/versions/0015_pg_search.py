"""candidate_index.token_ids: search tokens as a stored integer array (PostgreSQL)

Revision ID: 0015_pg_search
Revises: 0014_webhooks
Create Date: 2026-11-27 11:00:00

On PostgreSQL search looked tokens up through a GIN index on the expression
string_to_array(tokens, ' '). Whenever the planner expected many matches it scanned the
table instead, and then, as for every match it scored, it detoasted the token string
and split it into a text array again for each condition and each score term (about
18 times a row for three words): 0.36 s of database time a search at 11,000
candidates. The tokens are 32-bit keyed hashes written as 8 hex letters, so they are
stored once more here as an int4[] (1.5 KB a record, kept in the row, not in TOAST),
with a GIN index on the column (planner statistics per element, as ANALYZE keeps them
for array columns) and the score computed from the array in one pass: intarray's
icount(token_ids & query tokens), a sorted merge in C, where a sum of `@>` terms
compares every query token with every stored one (about 27 µs a row for nine tokens,
against next to nothing). intarray ships with PostgreSQL (contrib) and is a trusted
extension: the database's owner can create it. Its `&&` on int4[] is not the core
operator, so the index uses its operator class (gin__int_ops), or the planner could
not use the index for the search's conditions.

A trigger fills the column from `tokens` on every insert and update (COPY included),
as the FTS5 triggers keep candidate_search in step on SQLite, so no writer changes;
existing rows are converted here, in SQL (no keys are needed: it is the same tokens).
Prefix tokens (letters g-v) map to the same 32 bits as word tokens (0-f): a prefix
token equal to a word token is a collision like any between truncated tokens, which
search re-checks on the opened search card. Tokens of fewer bits (BLIND_INDEX_BITS 16
or 24) keep their value; of more bits, their first 32 are the lookup key, so the
database may return as many false matches as at the default 32 bits, and the opened
cards drop them as they drop every collision.

SQLite is untouched (FTS5).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_pg_search'
down_revision = '0014_webhooks'
branch_labels = None
depends_on = None

TOKEN_IDS = """
CREATE FUNCTION candidate_token_ids(tokens text) RETURNS integer[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT ('x' || lpad(left(translate(
               t, 'ghijklmnopqrstuv', '0123456789abcdef'), 8), 8, '0'))::bit(32)::integer),
           '{}')
    FROM unnest(string_to_array(tokens, ' ')) AS t
    WHERE t ~ '^[0-9a-v]+$'
$$
"""

TRIGGER_FUNCTION = """
CREATE FUNCTION candidate_index_token_ids() RETURNS trigger
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
    op.execute("CREATE EXTENSION IF NOT EXISTS intarray")
    op.execute("ALTER TABLE candidate_index ADD COLUMN token_ids integer[] NOT NULL "
               "DEFAULT '{}'")
    op.execute(TOKEN_IDS)
    op.execute(TRIGGER_FUNCTION)
    op.execute("CREATE TRIGGER candidate_index_token_ids BEFORE INSERT OR UPDATE OF tokens "
               "ON candidate_index FOR EACH ROW EXECUTE FUNCTION candidate_index_token_ids()")
    op.execute("UPDATE candidate_index SET token_ids = candidate_token_ids(tokens)")
    op.execute("DROP INDEX IF EXISTS candidate_search_gin")
    op.execute("CREATE INDEX candidate_token_ids_gin ON candidate_index "
               "USING gin (token_ids gin__int_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS candidate_token_ids_gin")
    op.execute("CREATE INDEX candidate_search_gin ON candidate_index "
               "USING gin (string_to_array(tokens, ' '))")
    op.execute("DROP TRIGGER IF EXISTS candidate_index_token_ids ON candidate_index")
    op.execute("DROP FUNCTION IF EXISTS candidate_index_token_ids()")
    op.execute("DROP FUNCTION IF EXISTS candidate_token_ids(text)")
    op.execute("ALTER TABLE candidate_index DROP COLUMN token_ids")
    # intarray stays: other objects may have come to use it since.
