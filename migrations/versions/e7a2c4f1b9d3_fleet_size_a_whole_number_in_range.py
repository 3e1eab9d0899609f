"""fleet size (车辆数) of the freight type: a whole number from 0 to 100000

The shipped declaration (data/enterprise_types.json) now says so; a database loaded
before keeps its stored declaration, so the freight type's ``fleet_size`` field gets
``whole``, ``min`` and ``max`` here, unless the district admin has changed it already
(a field no longer of kind number, or bounds of its own, is left as it is).

Revision ID: e7a2c4f1b9d3
Revises: 5f2b7c1e9d40
Create Date: 2026-12-05 22:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


# revision identifiers, used by Alembic.
revision = 'e7a2c4f1b9d3'
down_revision = '5f2b7c1e9d40'
branch_labels = None
depends_on = None

TYPES = sa.table('enterprise_type', sa.column('id', sa.Integer), sa.column('code', sa.String),
                 sa.column('spec', sa.JSON().with_variant(JSONB(), 'postgresql')))
BOUNDS = {'whole': True, 'min': 0, 'max': 100000}


def _change(fn):
    conn = op.get_bind()
    for row in conn.execute(sa.select(TYPES.c.id, TYPES.c.spec).where(TYPES.c.code == 'freight')):
        spec = dict(row.spec or {})
        fields = [fn(dict(f)) if f.get('key') == 'fleet_size' and f.get('kind') == 'number' else f
                  for f in spec.get('enterprise_fields') or []]
        if fields != (spec.get('enterprise_fields') or []):
            spec['enterprise_fields'] = fields
            conn.execute(sa.update(TYPES).where(TYPES.c.id == row.id).values(spec=spec))


def upgrade():
    _change(lambda f: f if any(k in f for k in BOUNDS) else {**f, **BOUNDS})


def downgrade():
    _change(lambda f: {k: v for k, v in f.items() if k not in BOUNDS or f.get(k) != BOUNDS[k]})
