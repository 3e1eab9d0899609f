"""day bits in the health summary: period test statistics read one row per person

The summary of a key gains the bits of its TestDaily rows of its last 62 days
(``app.services.health.status.day_bits``): which days had tests, each day's count
as three bit planes, the days with a positive or a pending test. The 7-day test
statistics then aggregate 200,000 summary rows instead of 1.4 million TestDaily rows.
A partial index finds the rare days of 8 or more tests, whose count the planes hold
modulo 8. Existing summaries are filled from TestDaily here.

Revision ID: 7c41d2e8b5a0
Revises: 5b7c0e2f9a31
Create Date: 2026-12-02 06:40:00

"""
from alembic import op
import sqlalchemy as sa

from app.services.health.status.day_bits import recompute_sql


# revision identifiers, used by Alembic.
revision = '7c41d2e8b5a0'
down_revision = '5b7c0e2f9a31'
branch_labels = None
depends_on = None

_BITS = ('tests_b0', 'tests_b1', 'tests_b2', 'positive_days', 'pending_days')
_MANY = sa.text("tests >= 8")


def upgrade():
    with op.batch_alter_table('health_summary') as batch:
        batch.add_column(sa.Column('tally_day', sa.Date(), nullable=True))
        for name in _BITS:
            batch.add_column(sa.Column(name, sa.BigInteger(), server_default='0', nullable=False))
    op.create_index('ix_test_daily_many', 'test_daily', ['day'], unique=False,
                    postgresql_where=_MANY, sqlite_where=_MANY)
    op.execute(sa.text(recompute_sql(op.get_bind().dialect.name, "SELECT id_key FROM health_summary")))


def downgrade():
    op.drop_index('ix_test_daily_many', table_name='test_daily')
    with op.batch_alter_table('health_summary') as batch:
        for name in reversed(_BITS):
            batch.drop_column(name)
        batch.drop_column('tally_day')
