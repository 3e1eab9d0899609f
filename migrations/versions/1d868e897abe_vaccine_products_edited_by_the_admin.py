"""vaccine products edited by the admin: dose counts and intervals as data

Rows are inserted from data/vaccine_products.json by the bootstrap (missing codes only).

Revision ID: 1d868e897abe
Revises: 94ef6a509a46
Create Date: 2026-12-01 21:46:48.242385

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1d868e897abe'
down_revision = '94ef6a509a46'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vaccine_product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('maker', sa.String(length=64), nullable=True),
    sa.Column('aliases', sa.Text(), nullable=True),
    sa.Column('primary_doses', sa.SmallInteger(), nullable=False),
    sa.Column('primary_interval_days', sa.Integer(), nullable=True),
    sa.Column('booster_doses', sa.SmallInteger(), nullable=False),
    sa.Column('booster_interval_days', sa.Integer(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )


def downgrade():
    op.drop_table('vaccine_product')
