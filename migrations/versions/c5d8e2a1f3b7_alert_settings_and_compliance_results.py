"""alert settings (告警设置), per-day compliance results and rule runs

Revision ID: c5d8e2a1f3b7
Revises: a3f1c9d27e64
Create Date: 2026-12-03 16:20:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c5d8e2a1f3b7'
down_revision = 'a3f1c9d27e64'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table('alert_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('recipients', JSON, nullable=False),
    sa.Column('check_time', sa.String(length=5), nullable=False),
    sa.Column('alert_time', sa.String(length=5), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['type_id'], ['enterprise_type.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_setting', schema=None) as batch_op:
        batch_op.create_index('ix_alert_setting_type', ['type_id', 'category'], unique=False)

    op.create_table('compliance_result',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('setting_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('samplings', sa.SmallInteger(), nullable=False),
    sa.Column('compliant', sa.Boolean(), nullable=True),
    sa.Column('last_sampled_at', sa.DateTime(), nullable=True),
    sa.Column('last_tested_at', sa.DateTime(), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'staff_id')
    )
    with op.batch_alter_table('compliance_result', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_result_staff', ['staff_id', 'day'], unique=False)
        batch_op.create_index('ix_compliance_result_setting', ['day', 'setting_id', 'compliant'], unique=False)

    op.create_table('rule_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('setting_id', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('broken', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('edition', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'kind', 'setting_id', name='uq_rule_run')
    )


def downgrade():
    op.drop_table('rule_run')
    with op.batch_alter_table('compliance_result', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_result_setting')
        batch_op.drop_index('ix_compliance_result_staff')
    op.drop_table('compliance_result')
    with op.batch_alter_table('alert_setting', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_setting_type')
    op.drop_table('alert_setting')
