"""one bureau and one task-force row of checkpoint recipients

The unique (scope, town_id) of checkpoint_recipients does not hold for the rows of no
town (the bureau's, the task force's): NULLs are distinct, so two first reads at once
could each create one. Duplicates are removed (the row with the lowest id is kept: the
one every lookup by target has read), then a partial unique index on scope where
town_id IS NULL (PostgreSQL and SQLite) holds one row per such target.

Revision ID: 81e3e8d91884
Revises: 4e186ef79ec7
Create Date: 2026-12-04 19:55:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '81e3e8d91884'
down_revision = '4e186ef79ec7'
branch_labels = None
depends_on = None

NO_TOWN = sa.text("town_id IS NULL")


def upgrade():
    op.execute(
        "DELETE FROM checkpoint_recipients WHERE town_id IS NULL AND id > ("
        "SELECT MIN(kept.id) FROM checkpoint_recipients AS kept "
        "WHERE kept.scope = checkpoint_recipients.scope AND kept.town_id IS NULL)"
    )
    op.create_index('uq_checkpoint_recipients_no_town', 'checkpoint_recipients', ['scope'], unique=True,
                    postgresql_where=NO_TOWN, sqlite_where=NO_TOWN)


def downgrade():
    op.drop_index('uq_checkpoint_recipients_no_town', table_name='checkpoint_recipients',
                  postgresql_where=NO_TOWN, sqlite_where=NO_TOWN)
