"""Shared fixtures: a real database (SQLite file or a fresh PostgreSQL database),
a real Redis (keys under a unique prefix, removed afterwards), the app with
migrations applied and demo data loaded, and login helpers.

Select the backend with SENTINEL_TEST_DB=sqlite|postgresql (default sqlite).
PostgreSQL admin URL: SENTINEL_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres).
Redis: SENTINEL_TEST_REDIS_URL (default redis://127.0.0.1:6379/0). When a backend
cannot be reached the suite fails; it never silently skips.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests check behaviour, never speed: on a loaded machine one slow example must not
# fail a run (hypothesis' 200 ms deadline and its too-slow health check made them flaky).
settings.register_profile("sentinel", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sentinel")

TEST_DB = os.environ.get("SENTINEL_TEST_DB", "sqlite")
PG_ADMIN = os.environ.get("SENTINEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SENTINEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "Sentinel#2026"
RUN_ID = uuid.uuid4().hex[:10]
# Everything the app writes under instance/ (generated secrets, attachments, import
# files, embedded Redis) goes to a folder of this run, never the developer's instance/.
INSTANCE_DIR = Path(tempfile.mkdtemp(prefix=f"sentinel-test-{RUN_ID}-"))
os.environ["SENTINEL_INSTANCE_DIR"] = str(INSTANCE_DIR)
# The compressed static files (app/platform/assets.py) are a cache keyed by their content:
# built once per machine and version, shared by every run, not rebuilt in each instance.
os.environ.setdefault("SENTINEL_STATIC_BUILD_DIR", str(Path(tempfile.gettempdir()) / "sentinel-static-build"))


def _create_pg_database() -> tuple[str, str]:
    import psycopg

    name = f"sentinel_test_{RUN_ID}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as err:  # pragma: no cover - environment problem
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN}: {err}", pytrace=False)
    base = PG_ADMIN.rsplit("/", 1)[0]
    return name, base.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


def _drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The .mo catalogs are build products (gitignored): compile stale ones, as `make translations` does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parent.parent / "app" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle)
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(partial, mo)  # atomic: parallel workers never read half a file


@pytest.fixture(scope="session")
def redis_url():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as err:  # pragma: no cover - environment problem
        pytest.fail(f"Redis not reachable at {REDIS_URL}: {err}", pytrace=False)
    prefix = f"sentinel-test-{RUN_ID}:"
    yield REDIS_URL, prefix
    # our prefix (app keys, sessions, limiter), RQ's keys for our queue and its jobs
    from tests.redis_hygiene import forget_run

    forget_run(client, prefix.rstrip(":"), prefix.rstrip(":"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DB == "postgresql":
        name, url = _create_pg_database()
        yield url
        _drop_pg_database(name)
    else:
        path = tmp_path_factory.mktemp("db") / "sentinel.db"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def app_overrides(database_url, redis_url, tmp_path_factory):
    url, prefix = redis_url
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "REDIS_URL": url,
        "REDIS_PREFIX": prefix,
        "RATELIMIT_KEY_PREFIX": prefix + "limit",
        "QUEUE_NAME": prefix.rstrip(":"),
        "TESTING": True,
        "AUTH_RATE_LIMIT": "1000 per minute",
        "BOOKING_RATE_LIMIT": "1000 per minute",
        "SECRET_KEY": "test-" + RUN_ID + "-" + uuid.uuid4().hex,  # 32+ bytes, like the generated key
        "ID_HASH_KEY": "test-hash-" + RUN_ID,
        "EXPORT_DIR": str(tmp_path_factory.mktemp("exports")),
    }


@pytest.fixture(scope="session")
def app(app_overrides):
    from flask_migrate import upgrade

    from app import create_app
    from app.cli.demo import load_demo

    application = create_app(app_overrides)
    with application.app_context():
        upgrade()
        load_demo()
    yield application
    with application.app_context():
        from app.platform.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context with a clean session afterwards."""
    with app.app_context():
        from app.platform.extensions import db

        yield db.session
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: bytes | str) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    match = _CSRF_RE.search(text)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real login form (CSRF token included)."""
    page = client.get("/login/")
    return client.post(
        "/login/", data={"username": username, "password": password, "csrf_token": csrf_from(page.data)},
        follow_redirects=False,
    )


def logout(client):
    """Log out as a user does: the confirmation page's form, POSTed with its CSRF token."""
    page = client.get("/logout/")
    if page.status_code != 200:  # not signed in: nothing to end
        return page
    return client.post("/logout/", data={"csrf_token": csrf_from(page.data)})


def api_token(client, username: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})
    assert response.status_code == 200, response.data
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture
def auth(client):
    class Auth:
        def login(self, username, password=PASSWORD):
            return login(client, username, password)

        def token(self, username, password=PASSWORD):
            return api_token(client, username, password)

    return Auth()


@pytest.fixture(scope="session", autouse=True)
def run_instance_dir():
    """This run's instance folder, removed at the end."""
    yield INSTANCE_DIR
    shutil.rmtree(INSTANCE_DIR, ignore_errors=True)
