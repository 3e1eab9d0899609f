"""Application factory: wiring only, a flat list of init steps.

Each step imports what it wires inside its function: importing any ``app.*`` module runs
this file first, so it stays light (the pure ``app.domain`` is imported without Flask's
whole stack), and the worker's entry (jobs/context.py) imports ``create_app`` from here
while the CLI this factory wires imports the jobs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from flask import Flask

from app.platform.assets import AssetFlask
from config import INSTANCE_DIR, Config


def create_app(overrides: Optional[dict[str, Any]] = None) -> Flask:
    from app.platform.file_modes import private_umask

    private_umask()  # before anything is created under instance/ (secrets, SQLite, Redis)
    app = AssetFlask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="templates",
        static_folder="static",
    )
    app.config.from_object(Config())
    app.config.update(overrides or {})

    from app.platform import http

    http.use_row_ids(app)  # before any route is added

    _init_private_files(app)
    _init_data_keys(app)
    _init_proxy(app)
    _init_redis(app)
    _init_security_config(app)
    _init_database(app)
    _init_appbuilder(app)

    from app.platform import assets, security_events, templating

    assets.init_app(app)
    http.init_app(app)
    security_events.init_app(app)
    templating.init_app(app)

    from app import cli

    cli.init_app(app)
    return app


def _init_private_files(app: Flask) -> None:
    """What earlier runs left under instance/ (and the SQLite files) is made the owner's
    alone: 0600 files, 0700 folders (app/platform/file_modes.py)."""
    from app.platform.file_modes import sqlite_files, tighten

    import_dir = app.config.get("IMPORT_DIR")
    tighten([Path(app.instance_path), Path(import_dir) if import_dir else None,
             *sqlite_files(app.config["SQLALCHEMY_DATABASE_URI"])])


def _init_data_keys(app: Flask) -> None:
    from app.platform import data_keys

    data_keys.init_app(app)


def _init_proxy(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, the client address and scheme are the ones
    they forward, so per-address limits count clients (not the proxy) and HTTPS is seen."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _init_redis(app: Flask) -> None:
    from app.platform.redis_embedded import limiter_storage_uri, resolve_url

    app.config["REDIS_URL"] = resolve_url(app.config["REDIS_URL"], Path(app.instance_path))
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["REDIS_PREFIX"] + "limit")
    # the limiter's keys start with REDIS_PREFIX too, like every key the app writes
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"key_prefix": app.config["REDIS_PREFIX"] + "LIMITS"})


def _init_security_config(app: Flask) -> None:
    from app.security import policies  # noqa: F401  (registers every model's scope policy)
    from app.security.accounts import user_has_password
    from app.security.actions import can
    from app.security.personal_data import shown
    from app.security.scope import current_scope
    from app.security.roles import fab_roles

    app.config["FAB_ROLES"] = fab_roles()
    app.jinja_env.globals["logs_in_with_password"] = user_has_password
    app.jinja_env.globals["can"] = can  # buttons only for actions the user may take
    # a detail's ID number or phone: in full for the roles that may read it, else masked
    app.jinja_env.globals["personal"] = lambda value, kind: shown(value, kind, current_scope().full_numbers)


def _init_database(app: Flask) -> None:
    from app.platform.database import install_idle_ping, install_lean_descriptions, install_sqlite_pragmas
    from app.platform.operations import end_reads
    from app.platform.extensions import csrf, db, migrate

    import models  # noqa: F401  (registers every table)

    db.init_app(app)
    # registered after Flask-SQLAlchemy's: teardowns run in reverse, so a request's
    # read-only transaction is committed before the session is removed (which would roll
    # it back: see app.platform.operations)
    app.teardown_appcontext(lambda _error: end_reads())
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    with app.app_context():
        install_sqlite_pragmas(db.engine)
        install_idle_ping(db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
        install_lean_descriptions(db.engine)


def _init_appbuilder(app: Flask) -> None:
    from flask_appbuilder import AppBuilder

    from app.platform.extensions import db

    appbuilder = AppBuilder(update_perms=False)
    with app.app_context():
        appbuilder.init_app(app, db.session)
        from views import register_views

        register_views(appbuilder)
        appbuilder.post_init()
    from app.platform import locale

    locale.install(app)
