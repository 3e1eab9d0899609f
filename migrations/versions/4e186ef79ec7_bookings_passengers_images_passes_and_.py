"""bookings, passengers, images, passes and checkpoint recipients

Revision ID: 4e186ef79ec7
Revises: c5d8e2a1f3b7
Create Date: 2026-12-04 16:10:38.746252

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '4e186ef79ec7'
down_revision = 'c5d8e2a1f3b7'
branch_labels = None
depends_on = None

# ID numbers and phones are sealed at rest (models.sealed): VARCHAR(128) in the schema.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table('checkpoint_summary_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_end', sa.DateTime(), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('denied', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_end')
    )
    op.create_table('checkpoint_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('recipients', JSON, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['town_id'], ['town.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope', 'town_id', name='uq_checkpoint_recipients')
    )
    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('driver_name', sa.String(length=64), nullable=False),
    sa.Column('id_type', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=128), nullable=False),
    sa.Column('id_key', sa.String(length=43), nullable=True),
    sa.Column('phone', sa.String(length=128), nullable=False),
    sa.Column('phone_key', sa.String(length=43), nullable=True),
    sa.Column('plate_number', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('destination_town_id', sa.Integer(), nullable=False),
    sa.Column('destination_address', sa.String(length=300), nullable=False),
    sa.Column('expected_arrival', sa.DateTime(), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('scope_town_id', sa.Integer(), nullable=False),
    sa.Column('freight_type_id', sa.Integer(), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['destination_town_id'], ['town.id'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['freight_type_id'], ['enterprise_type.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scope_town_id'], ['town.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_arrival', ['expected_arrival'], unique=False)
        batch_op.create_index('ix_booking_enterprise', ['enterprise_id', 'created_at'], unique=False)
        batch_op.create_index('ix_booking_id_key', ['id_key'], unique=False)
        batch_op.create_index('ix_booking_phone_key', ['phone_key', 'created_at'], unique=False)
        batch_op.create_index('ix_booking_plate', ['plate_number'], unique=False)
        batch_op.create_index('ix_booking_scope_town', ['scope_town_id', 'created_at'], unique=False)

    op.create_table('booking_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stored_name')
    )
    with op.batch_alter_table('booking_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_image_booking_id'), ['booking_id'], unique=False)

    op.create_table('booking_pass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.String(length=32), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('checkpoint', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['ab_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id'),
    sa.UniqueConstraint('token_id')
    )
    with op.batch_alter_table('booking_pass', schema=None) as batch_op:
        batch_op.create_index('ix_booking_pass_decided', ['state', 'decided_at'], unique=False)
        batch_op.create_index('ix_booking_pass_expires', ['state', 'expires_at'], unique=False)

    op.create_table('booking_passenger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_type', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=128), nullable=False),
    sa.Column('phone', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('booking_passenger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_passenger_booking_id'), ['booking_id'], unique=False)



def downgrade():
    with op.batch_alter_table('booking_passenger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_passenger_booking_id'))

    op.drop_table('booking_passenger')
    with op.batch_alter_table('booking_pass', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_pass_expires')
        batch_op.drop_index('ix_booking_pass_decided')

    op.drop_table('booking_pass')
    with op.batch_alter_table('booking_image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_image_booking_id'))

    op.drop_table('booking_image')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_scope_town')
        batch_op.drop_index('ix_booking_plate')
        batch_op.drop_index('ix_booking_phone_key')
        batch_op.drop_index('ix_booking_id_key')
        batch_op.drop_index('ix_booking_enterprise')
        batch_op.drop_index('ix_booking_arrival')

    op.drop_table('booking')
    op.drop_table('checkpoint_recipients')
    op.drop_table('checkpoint_summary_run')
