"""review steps of declared workflows: who decided what on which row, and why

Revision ID: 3e5a1c9d7b20
Revises: b3e9f1c2d4a7
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e5a1c9d7b20'
down_revision = 'b3e9f1c2d4a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=False),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_step', schema=None) as batch_op:
        batch_op.create_index('ix_review_step_entity', ['entity', 'entity_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_step', schema=None) as batch_op:
        batch_op.drop_index('ix_review_step_entity')
    op.drop_table('review_step')
