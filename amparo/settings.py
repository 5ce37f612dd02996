"""Amparo's one settings module. Every value comes from the environment (DESIGN.md 10);
docs/operations.md lists each variable. Nothing here differs per machine."""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from amparo.core.env import (
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    require_secret,
)
from amparo.core.keyformat import check_master_key_format

BASE_DIR = Path(__file__).resolve().parent

DEBUG = env_bool("AMPARO_DEBUG", False)
DATA_DIR = Path(env_str("AMPARO_DATA_DIR", "var")).resolve()
EVIDENCE_DIR = Path(env_str("AMPARO_EVIDENCE_DIR", str(DATA_DIR / "evidence"))).resolve()
# The largest evidence file accepted (issue 4: 50 MB by default).
AMPARO_EVIDENCE_MAX_BYTES = env_int("AMPARO_EVIDENCE_MAX_BYTES", 50 * 1024 * 1024)
# The submission size advertised to OpenRosa phones; above it they split (issue 9).
AMPARO_OPENROSA_MAX_BYTES = env_int("AMPARO_OPENROSA_MAX_BYTES", 10 * 1024 * 1024)
GENERATED_DIR = DATA_DIR / "generated"

# With debugging off the server refuses to start without its secrets (DESIGN.md 10).
# In debug mode a fixed, obviously unsafe key keeps a developer's shell usable; the master
# key has no such fallback outside debug, because it protects people's identities.
SECRET_KEY = env_secret("SECRET_KEY")
MASTER_KEY = env_secret("AMPARO_MASTER_KEY")
if not DEBUG:
    require_secret("SECRET_KEY", SECRET_KEY)
    require_secret("AMPARO_MASTER_KEY", MASTER_KEY)
    check_master_key_format(MASTER_KEY)
elif not SECRET_KEY:
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 - only ever used with AMPARO_DEBUG on
# The key of `amparo backup` archives (core/backup.py). Empty: derived from the master key
# with HKDF; a separate key is better for copies kept off-site (docs/operations.md 7).
AMPARO_BACKUP_KEY = env_secret("AMPARO_BACKUP_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public base URL, used in invitation links and e-mails sent from background work.
BASE_URL = env_str("AMPARO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "amparo.core",
    "amparo.people",
    "amparo.alerts",
    "amparo.incidents",
    "amparo.risk",
    "amparo.travel",
    "amparo.crisis",
    "amparo.protocols",
    "amparo.programmes",
    "amparo.monitoring",
    "amparo.channels",
    "amparo.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "amparo.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "amparo.core.middleware.PrivatePagesMiddleware",
    "amparo.people.middleware.UserLanguageMiddleware",
    "amparo.people.middleware.RequireMFAMiddleware",
    "amparo.people.middleware.DuressMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "amparo.urls"
WSGI_APPLICATION = "amparo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "amparo.people.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite in WAL mode by default, PostgreSQL through DATABASE_URL.
CONN_MAX_AGE = env_int("AMPARO_CONN_MAX_AGE", 600)
DATABASE_URL = env_secret("DATABASE_URL")
# FULL: a commit is on disk before Amparo answers (DESIGN.md 2: nothing is lost), even
# across a power cut. NORMAL is faster and survives a crash of the process, not of the host.
SQLITE_SYNCHRONOUS = env_str("AMPARO_SQLITE_SYNCHRONOUS", "FULL").upper()
# PostgreSQL: the hot paths' statements run as prepared statements (server-side binding,
# amparo/core/db/postgresql/base.py). Off for a connection pooler in transaction mode
# that does not keep them (PgBouncer before 1.21, or without max_prepared_statements).
AMPARO_DB_PREPARED = env_bool("AMPARO_DB_PREPARED", True)
if SQLITE_SYNCHRONOUS not in {"FULL", "NORMAL", "EXTRA"}:
    raise ImproperlyConfigured("AMPARO_SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=CONN_MAX_AGE > 0
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with the per-request health check skipped for a connection that
        # has just ended a request cleanly (amparo/core/db/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "amparo.core.db.postgresql"
else:
    DATABASES = {
        "default": {
            # Django's backend, with a process's writers queued on a mutex rather than
            # on SQLite's sleeping busy handler (amparo/core/db/sqlite3/base.py).
            "ENGINE": "amparo.core.db.sqlite3",
            "NAME": str(DATA_DIR / "amparo.sqlite3"),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "OPTIONS": {
                # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on
                # the busy timeout instead of failing half-way with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 10,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    f"PRAGMA synchronous={SQLITE_SYNCHRONOUS};"
                    "PRAGMA busy_timeout=10000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
            # In memory unless named; said outright, as pytest-django recognises only
            # Django's own engine as SQLite when it names the databases of its workers.
            "TEST": {"NAME": env_str("AMPARO_TEST_SQLITE_NAME") or ":memory:"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Installation-wide delivery channels (Apprise URLs; "{to}" becomes the recipient's address),
# used by organisations that have not configured their own.
AMPARO_CHANNEL_URLS = {
    channel: url
    for channel, url in {
        "sms": env_secret("AMPARO_SMS_URL"),
        "email": env_secret("AMPARO_EMAIL_URL"),
        "webhook": env_secret("AMPARO_WEBHOOK_URL"),
        "signal": env_secret("AMPARO_SIGNAL_URL"),
        "telegram": env_secret("AMPARO_TELEGRAM_URL"),
    }.items()
    if url
}
# Only `amparo demo` sets this: /demo/inbox/ stands in for real SMS and e-mail gateways.
AMPARO_DEMO_INBOX = env_bool("AMPARO_DEMO_INBOX", False)
# bench/intake.py: route the bare one-insert endpoint it compares with (never in production).
AMPARO_BENCH_ENDPOINTS = env_bool("AMPARO_BENCH_ENDPOINTS", False)
# The heartbeat URL answers 503 when a worker loop has not beaten for this long.
AMPARO_HEARTBEAT_STALE_SECONDS = env_int("AMPARO_HEARTBEAT_STALE_SECONDS", 30)
# /metrics (core/ops.py) answers a Prometheus scraper that sends this as a bearer token;
# unset, it answers only requests from this machine that did not come through a proxy.
AMPARO_METRICS_TOKEN = env_secret("AMPARO_METRICS_TOKEN")
# A load balancer may probe /healthz over plain HTTP even with AMPARO_SSL_REDIRECT on.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# The map page's online tiles (a URL template such as https://tile.example.org/{z}/{x}/{y}.png)
# and their attribution; empty keeps the map offline, on the country outlines.
AMPARO_MAP_TILE_URL = env_str("AMPARO_MAP_TILE_URL", "")
AMPARO_MAP_TILE_ATTRIBUTION = env_str("AMPARO_MAP_TILE_ATTRIBUTION", "")

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "amparo.people.auth.DuressBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout (django-axes): after AMPARO_LOGIN_FAILURES failures for one account from one
# address, that pair is locked for AMPARO_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("AMPARO_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = env_int("AMPARO_LOCKOUT_MINUTES", 30) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# The client's address as the rate limits see it (AMPARO_CLIENT_IP_HEADER behind a proxy).
AXES_CLIENT_IP_CALLABLE = "amparo.core.ratelimit.login_client_address"


def _rate(name: str, default: str) -> str:
    value = env_str(name, default).strip().lower()
    if value != "off" and not re.fullmatch(r"[1-9]\d*/\d*[smhd]", value):
        raise ImproperlyConfigured(f"{name} must be like 10/h or 120/m, or off; not {value!r}")
    return value


# Rate limits (issue 10; amparo/core/ratelimit.py) on what anyone can reach without an
# account: anonymous reports (web form and API, one budget), receipt lookups (page and
# API, one budget), the SMS webhooks and OpenRosa submissions. "<count>/<period>"
# (period s, m, h or d, e.g. "10/h"), or "off".
# AMPARO_RATE_LIMITS=false turns every limit off (the benchmarks do). Clients are counted
# by an HMAC of their address, never the address itself, in a table every web process
# shares; AMPARO_CLIENT_IP_HEADER names the header a proxy puts the client's address in.
AMPARO_RATE_LIMITS = env_bool("AMPARO_RATE_LIMITS", True)
AMPARO_RATE_ANON_REPORTS = _rate("AMPARO_RATE_ANON_REPORTS", "10/h")
AMPARO_RATE_SMS = _rate("AMPARO_RATE_SMS", "120/m")
AMPARO_RATE_OPENROSA = _rate("AMPARO_RATE_OPENROSA", "240/m")
AMPARO_RATE_RECEIPTS = _rate("AMPARO_RATE_RECEIPTS", "30/h")
AMPARO_CLIENT_IP_HEADER = env_str("AMPARO_CLIENT_IP_HEADER", "")
RATELIMIT_ENABLE = AMPARO_RATE_LIMITS
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True
CACHES = {
    # Per process; nothing in Amparo relies on it being shared.
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The limiter's counters, in the database (table made by migration core.0004), so
    # that every web process counts together.
    "ratelimit": {
        "BACKEND": "amparo.core.ratelimit.RateLimitCache",
        "LOCATION": "core_ratelimit_cache",
        # Expired rows are deleted as new ones come; this only stops Django's own cull
        # from dropping live counters.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    },
}

# Sessions expire after AMPARO_SESSION_MINUTES without activity.
SESSION_COOKIE_AGE = env_int("AMPARO_SESSION_MINUTES", 8 * 60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = "Amparo"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Transport security: on by default outside debug; a deployment behind a TLS proxy sets
# AMPARO_BEHIND_TLS_PROXY so that Django trusts X-Forwarded-Proto.
SECURE_COOKIES = env_bool("AMPARO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_SECONDS = env_int("AMPARO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_SSL_REDIRECT = env_bool("AMPARO_SSL_REDIRECT", False)
if env_bool("AMPARO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "es"
LANGUAGES = [
    ("es", _("Spanish")),
    ("en", _("English")),
    ("pt", _("Portuguese")),
    ("da", _("Danish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve from the app folders directly when collectstatic has not been run (tests, dev).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Logs (docs/operations.md 4.8): one line per event on standard error, with time, level,
# logger, message and request id; JSON by default outside debug. Phone numbers, e-mail and
# IP addresses and link tokens are masked on the way out (core/logs.py).
AMPARO_LOG_FORMAT = env_str("AMPARO_LOG_FORMAT", "text" if DEBUG else "json").strip().lower()
if AMPARO_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("AMPARO_LOG_FORMAT must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "amparo.core.logs.RequestIdFilter"},
        "redact": {"()": "amparo.core.logs.RedactFilter"},
    },
    "formatters": {
        "json": {"()": "amparo.core.logs.JsonFormatter"},
        "text": {"()": "amparo.core.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": AMPARO_LOG_FORMAT,
            "filters": ["request_id", "redact"],
        },
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": env_str("AMPARO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers (debug console, mail to ADMINS) would bypass the filters.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"level": "WARNING"},
        # Apprise names recipients in its warnings. Delivery keeps them per call for the
        # outbox's last error (alerts.delivery), and the worker logs each failure by
        # message id; nothing of Apprise's own reaches the log.
        "apprise": {"handlers": ["null"], "level": "WARNING", "propagate": False},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
