"""a pass names its deciding user without a foreign key

``booking_pass.decided_by`` referenced ``ab_user``: PostgreSQL checked it on every
decision by locking the checkpoint user's row (FOR KEY SHARE), so every checkpoint
deciding at once took a lock on the same few rows (shared locks held together become
multixacts). The column keeps the user's id, as ``audit_log.user_id`` and the review
steps do; the deciding user's name is in ``booking_pass.checkpoint``.

Revision ID: 5f2b7c1e9d40
Revises: 81e3e8d91884
Create Date: 2026-12-04 23:20:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5f2b7c1e9d40'
down_revision = '81e3e8d91884'
branch_labels = None
depends_on = None

# SQLite's constraint has no name: batch mode names the reflected one by this convention
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s"}
SQLITE_NAME = "fk_booking_pass_decided_by"


def _name() -> str:
    return "booking_pass_decided_by_fkey" if op.get_bind().dialect.name == "postgresql" else SQLITE_NAME


def upgrade():
    with op.batch_alter_table("booking_pass", naming_convention=NAMING) as batch:
        batch.drop_constraint(_name(), type_="foreignkey")


def downgrade():
    with op.batch_alter_table("booking_pass", naming_convention=NAMING) as batch:
        batch.create_foreign_key(_name(), "ab_user", ["decided_by"], ["id"], ondelete="SET NULL")
