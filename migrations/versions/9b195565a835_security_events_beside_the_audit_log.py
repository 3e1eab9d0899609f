"""security events beside the audit log: failed logins, lockouts, refused SMS codes,
out-of-scope and permission refusals (issue 11)

A table of its own: the audit log (a row per audited read) is not rewritten or
re-indexed, and its list is not flooded by refusals.

Revision ID: 9b195565a835
Revises: 7a0d50a3c2cd
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b195565a835'
down_revision = '7a0d50a3c2cd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('security_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=128), nullable=True),
    sa.Column('account', sa.String(length=128), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('method', sa.String(length=8), nullable=True),
    sa.Column('route', sa.String(length=200), nullable=True),
    sa.Column('entity', sa.String(length=64), nullable=True),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_security_event_at', 'security_event', ['at'])
    op.create_index('ix_security_event_kind', 'security_event', ['kind'])
    op.create_index('ix_security_event_username', 'security_event', ['username'])
    op.create_index('ix_security_event_account', 'security_event', ['account'])


def downgrade():
    op.drop_index('ix_security_event_account', table_name='security_event')
    op.drop_index('ix_security_event_username', table_name='security_event')
    op.drop_index('ix_security_event_kind', table_name='security_event')
    op.drop_index('ix_security_event_at', table_name='security_event')
    op.drop_table('security_event')
