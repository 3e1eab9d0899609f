"""Migrations on the selected backend: a fresh install upgrades from nothing, the
models and the migrations describe the same schema, and every revision downgrades.

Each test runs on a database of its own (a new SQLite file, or a PostgreSQL database
named with a uuid), dropped afterwards; the suite's shared database is not touched.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect

from tests.conftest import PG_ADMIN, TEST_DB

CORE_TABLES = {"ab_user", "ab_role", "town", "grid", "bureau", "enterprise_type", "enterprise", "staff", "audit_log"}


@pytest.fixture
def empty_database_url(tmp_path):
    if TEST_DB != "postgresql":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    import psycopg

    name = f"sentinel_migr_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_app(app_overrides, empty_database_url):
    """An app built on the empty database (nothing migrated yet)."""
    from app import create_app
    from app.platform.extensions import db

    overrides = dict(app_overrides, SQLALCHEMY_DATABASE_URI=empty_database_url)
    application = create_app(overrides)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def tables(application) -> set[str]:
    from app.platform.extensions import db

    with application.app_context():
        return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def head_revision(application) -> str:
    from app.platform.extensions import migrate

    with application.app_context():
        config = migrate.get_config()
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(config).get_current_head()


def current_revision(application):
    from alembic.migration import MigrationContext

    from app.platform.extensions import db

    with application.app_context(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_upgrade_from_an_empty_database(fresh_app):
    """`flask db upgrade` on a new, empty database creates the whole schema at the head revision."""
    from flask_migrate import upgrade

    assert tables(fresh_app) == set()
    with fresh_app.app_context():
        upgrade()
    assert CORE_TABLES <= tables(fresh_app)
    assert current_revision(fresh_app) == head_revision(fresh_app)


def test_models_and_migrations_agree(fresh_app):
    """Autogenerate finds nothing to add: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    from app.platform.extensions import db

    with fresh_app.app_context():
        upgrade()
        configured = fresh_app.extensions["migrate"].configure_args
        opts = {k: v for k, v in configured.items() if k in ("compare_type", "compare_server_default")}
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(fresh_app):
    """Every revision can be undone down to an empty database, and upgrading again works."""
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
    assert tables(fresh_app) == set()
    assert current_revision(fresh_app) is None
    with fresh_app.app_context():
        upgrade()
    assert CORE_TABLES <= tables(fresh_app)
