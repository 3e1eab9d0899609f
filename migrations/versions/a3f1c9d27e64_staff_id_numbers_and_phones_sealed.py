"""staff ID numbers and phones sealed at rest, found by keyed hashes

``staff.id_number`` and ``staff.phone`` hold AES-GCM sealed values (models/sealed.py,
under the app's ``DATA_KEY``; 128 characters leave room for a 32-character number).
The phone search goes through the new ``phone_key`` (keyed hash under a secret
derived from ``ID_HASH_KEY``), the ID search and the duplicate rule through
``id_key``: "one person per ID number per enterprise" becomes the unique
``(enterprise_id, id_key)``, and the indexes of the plain columns go.

Existing rows are sealed here with the keys of the app running the migration
(Flask-Migrate runs it inside the app: the same ``DATA_KEY`` / ``ID_HASH_KEY`` the app
will use); staff without an ``id_key`` yet get theirs. The downgrade opens every value
again (it needs the keys that sealed them).

Revision ID: a3f1c9d27e64
Revises: 3e5a1c9d7b20
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f1c9d27e64'
down_revision = '3e5a1c9d7b20'
branch_labels = None
depends_on = None

CHUNK = 5000
_staff = sa.table('staff', sa.column('id', sa.Integer), sa.column('id_number', sa.String),
                  sa.column('phone', sa.String), sa.column('id_key', sa.String), sa.column('phone_key', sa.String))


def _rows(bind):
    """Every staff row (id, id_number, phone, id_key), in chunks by id."""
    last = 0
    while True:
        rows = bind.execute(sa.select(_staff.c.id, _staff.c.id_number, _staff.c.phone, _staff.c.id_key)
                            .where(_staff.c.id > last).order_by(_staff.c.id).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _is_sealed(value):
    from app.domain.sealing import SealError, key_id_of

    try:
        return value is not None and bool(key_id_of(value))
    except SealError:
        return False


def _seal(bind):
    from app.platform.data_keys import keyring
    from app.services.health.feeds import keys

    ring = keyring()
    seal_number, seal_phone = ring.sealer(b"staff.id_number"), ring.sealer(b"staff.phone")
    id_key, phone_key = keys.keyers()[0], keys.phone_keyers()[0]
    update = _staff.update().where(_staff.c.id == sa.bindparam('row_id')).values(
        id_number=sa.bindparam('n'), phone=sa.bindparam('p'), phone_key=sa.bindparam('k'),
        id_key=sa.func.coalesce(_staff.c.id_key, sa.bindparam('i')))
    for rows in _rows(bind):
        params = []
        for row in rows:
            if _is_sealed(row.id_number):
                continue  # sealed already (nothing else could have written this)
            number, phone = keys.normalised(row.id_number), keys.normalised_phone(row.phone)
            params.append({"row_id": row.id, "n": seal_number(row.id_number), "p": seal_phone(row.phone),
                           "k": phone_key(phone) if phone else None, "i": id_key(number) if number else None})
        if params:
            bind.execute(update, params)


def _unseal(bind):
    from app.platform.data_keys import keyring

    ring = keyring()
    open_number, open_phone = ring.opener(b"staff.id_number"), ring.opener(b"staff.phone")
    update = _staff.update().where(_staff.c.id == sa.bindparam('row_id')).values(
        id_number=sa.bindparam('n'), phone=sa.bindparam('p'))
    for rows in _rows(bind):
        params = [{"row_id": r.id, "n": open_number(r.id_number), "p": open_phone(r.phone)}
                  for r in rows if _is_sealed(r.id_number)]
        if params:
            bind.execute(update, params)


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint('uq_staff_enterprise_id_number', type_='unique')
        batch_op.drop_index('ix_staff_id_number')
        batch_op.drop_index('ix_staff_phone')
        batch_op.alter_column('id_number', existing_type=sa.String(length=32), type_=sa.String(length=128),
                              existing_nullable=False)
        batch_op.alter_column('phone', existing_type=sa.String(length=20), type_=sa.String(length=128),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('phone_key', sa.String(length=43), nullable=True))
    _seal(op.get_bind())
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_staff_enterprise_id_key', ['enterprise_id', 'id_key'])
        batch_op.create_index('ix_staff_phone_key', ['phone_key'], unique=False)


def downgrade():
    _unseal(op.get_bind())
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_phone_key')
        batch_op.drop_constraint('uq_staff_enterprise_id_key', type_='unique')
        batch_op.drop_column('phone_key')
        batch_op.alter_column('phone', existing_type=sa.String(length=128), type_=sa.String(length=20),
                              existing_nullable=True)
        batch_op.alter_column('id_number', existing_type=sa.String(length=128), type_=sa.String(length=32),
                              existing_nullable=False)
        batch_op.create_unique_constraint('uq_staff_enterprise_id_number', ['enterprise_id', 'id_number'])
        batch_op.create_index('ix_staff_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_staff_phone', ['phone'], unique=False)
