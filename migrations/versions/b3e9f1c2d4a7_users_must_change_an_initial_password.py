"""users must change an initial password: ab_user.must_change_password

Set when the district admin creates an account or resets its password; the user then
sets a password of their own at the next login. Existing accounts are not flagged.

Revision ID: b3e9f1c2d4a7
Revises: 9b195565a835
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3e9f1c2d4a7'
down_revision = '9b195565a835'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('ab_user') as batch:
        batch.drop_column('must_change_password')
