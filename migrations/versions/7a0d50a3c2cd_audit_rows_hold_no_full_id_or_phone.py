"""audit rows hold no full ID number or phone

Audit rows written before this revision kept the ID numbers and phones of staff and
enterprise snapshots and of export filters (``q=<an ID number>``) in full. They are
masked here the way ``app.audit.record`` masks every new row
(``app.domain.redaction``), in batches, rewriting only the rows that change.

The downgrade is a no-op: the full numbers are gone and nothing needs them back.

Revision ID: 7a0d50a3c2cd
Revises: 48b4d139292c
Create Date: 2026-12-03 12:10:00

"""
from alembic import op
import sqlalchemy as sa

from app.domain.redaction import mask_record, mask_text
from models.mixins import JSONType


# revision identifiers, used by Alembic.
revision = '7a0d50a3c2cd'
down_revision = '48b4d139292c'
branch_labels = None
depends_on = None

BATCH = 2000

audit_log = sa.table(
    'audit_log',
    sa.column('id', sa.Integer()),
    sa.column('detail', sa.String(500)),
    sa.column('before', JSONType),
    sa.column('after', JSONType),
)


def upgrade():
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(audit_log.c.id, audit_log.c.detail, audit_log.c.before, audit_log.c.after)
            .where(audit_log.c.id > last).order_by(audit_log.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        for row_id, detail, before, after in rows:
            masked = {'detail': (detail, mask_text(detail)), 'before': (before, mask_record(before)),
                      'after': (after, mask_record(after))}
            changed = {name: new for name, (old, new) in masked.items() if new != old}
            if changed:
                conn.execute(audit_log.update().where(audit_log.c.id == row_id).values(**changed))
        last = rows[-1][0]


def downgrade():
    pass  # the masked numbers cannot (and need not) be restored
