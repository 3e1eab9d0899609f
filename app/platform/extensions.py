"""Framework singletons, created unbound and initialised by ``create_app`` (which also
builds the one ``AppBuilder``)."""
from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# One declarative base for FAB's security tables and ours: one metadata for Alembic.
db = SQLA(model_class=Model)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
