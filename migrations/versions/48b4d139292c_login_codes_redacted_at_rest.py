"""login codes redacted at rest: message.redact_at

A sensitive message (an SMS login code) gets the time its stored text is due to be
redacted (app/notify/retention.py). Sensitive messages stored before this revision are
due at once: the outbox shows them redacted from now on and the job ``notify.redact``
rewrites them within a minute. The downgrade drops the column (texts already redacted
stay redacted).

Revision ID: 48b4d139292c
Revises: 7c41d2e8b5a0
Create Date: 2026-12-03 12:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '48b4d139292c'
down_revision = '7c41d2e8b5a0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('redact_at', sa.DateTime(), nullable=True))
        batch.create_index(batch.f('ix_message_redact_at'), ['redact_at'], unique=False)
    message = sa.table('message', sa.column('sensitive', sa.Boolean()), sa.column('redact_at', sa.DateTime()))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.execute(message.update().where(message.c.sensitive.is_(True)).values(redact_at=now))


def downgrade():
    with op.batch_alter_table('message') as batch:
        batch.drop_index(batch.f('ix_message_redact_at'))
        batch.drop_column('redact_at')
