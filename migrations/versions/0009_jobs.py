"""Job pages: a vacancy's contract type, hours and posting day; mail with an HTML part
and a sender name (both sealed)

Revision ID: 0009_jobs
Revises: 0008_i18n
Create Date: 2026-11-27 07:45:00

"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_jobs'
down_revision = '0008_i18n'
branch_labels = None
depends_on = None


def _day(value):
    # SQLite hands the stored naive-UTC timestamp back as text, PostgreSQL as a datetime;
    # the posting day is the day in Brussels (vault.services.vacancies.local_day).
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo('Europe/Brussels')).date()


def upgrade():
    with op.batch_alter_table('vacancy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_type', sa.String(length=20), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('hours_per_week', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('posted_on', sa.Date(), nullable=True))
    # A vacancy from before was posted the day it was created.
    vacancy = sa.table('vacancy', sa.column('id', sa.Integer),
                       sa.column('created_at', sa.String), sa.column('posted_on', sa.Date))
    conn = op.get_bind()
    for row_id, created in conn.execute(sa.text('SELECT id, created_at FROM vacancy')).all():
        conn.execute(vacancy.update().where(vacancy.c.id == row_id)
                     .values(posted_on=_day(created)))

    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('html_body', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('sender_name', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.drop_column('sender_name')
        batch_op.drop_column('html_body')
    with op.batch_alter_table('vacancy', schema=None) as batch_op:
        batch_op.drop_column('posted_on')
        batch_op.drop_column('hours_per_week')
        batch_op.drop_column('contract_type')
