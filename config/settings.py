"""DeviceLedger settings, read from environment variables.

Environment variables (all optional in development):

- ``SECRET_KEY``: set it in production. Unset means development (``make run``): a throwaway
  key, localhost only, static files served from the app folders, plain HTTP.
- ``DEBUG``: ``1``/``true`` shows Django's debug pages (tracebacks, the URL list on a 404, the
  CSRF explanation) instead of the product's own 404, 403, CSRF-failure and 500 pages. Off by
  default, in development too (``make run DEBUG=1`` for a developer).
- ``DATABASE_URL``: e.g. ``postgres://user:pass@host:5432/deviceledger``.
  Default: SQLite at ``var/deviceledger.sqlite3``.
- ``ALLOWED_HOSTS``: comma-separated host names. Default in debug: localhost names.
- ``CSRF_TRUSTED_ORIGINS``: comma-separated origins (``https://ledger.example.org``).
- ``CELERY_BROKER_URL``: e.g. ``redis://127.0.0.1:6379/0``. Unset: jobs run in-process.
- ``IMPORTS_SET_BASED``: ``0`` turns off the set-based OneRoster users.csv import on
  PostgreSQL (staging table, SQL checks and upserts); default on. SQLite never uses it.
- ``SECURE_SSL_REDIRECT``, ``SECURE_HSTS_SECONDS``: HTTPS hardening in production
  (defaults on / one year in production: ``SECRET_KEY`` set, ``DEBUG`` off).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DEVICELEDGER_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable (1/true/yes/on, case-insensitive)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated environment variable into a list of non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
#: Django's debug pages, for developers only; people see the product's own error pages
#: (``core.views``: 404, 403, CSRF failure, 500) unless ``DEBUG=1``.
DEBUG = env_bool("DEBUG", default=False)
#: Development conveniences (no ``SECRET_KEY``, or ``DEBUG=1``): a throwaway key, localhost,
#: static files from the app folders without ``collectstatic``, plain HTTP.
DEVELOPMENT = DEBUG or not SECRET_KEY
if not SECRET_KEY:
    if os.environ.get("ALLOWED_HOSTS", "").strip():
        raise ImproperlyConfigured("SECRET_KEY must be set to serve ALLOWED_HOSTS (development serves localhost only).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEVELOPMENT else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "core.admin_site.LedgerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "core",
    "sites",
    "accounts",
    "people",
    "inventory",
    "custody",
    "reports",
    "imports",
    "demo",
]

#: The scoping gate (``core.scoping``) asks this function which actions a user may take
#: where; ``accounts`` implements it from staff roles.
LEDGER_SCOPE_PROVIDER = "accounts.scoping.roles_scope"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sites.middleware.DistrictTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sites.context_processors.ledger",
            ],
            # money, count, grade(s), nav_link on every page without {% load %}
            "builtins": ["core.templatetags.formatting"],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'deviceledger.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during a write; a busy timeout makes concurrent
    # writers wait instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file (one per process) so that threads share one database and wait on
    # its write lock, as they do in production; an in-memory database cannot show that.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Model permissions for the Django admin come from the District admin role (authenticates nobody).
    "accounts.backends.DistrictAdminPermissions",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "core.views.csrf_failure"  # the product's page (Django's own when DEBUG)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+IP pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # storage and server time; pages show the district's time zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEVELOPMENT
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = DEVELOPMENT  # serve app static files without collectstatic in development

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEVELOPMENT:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background jobs: Celery with Redis in production; in-process when no broker is set.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True

# Imports: on PostgreSQL, OneRoster users.csv is staged with COPY and checked, planned and
# applied in set-based SQL (imports/oneroster_sql.py); False keeps the row-by-row path.
IMPORTS_SET_BASED = env_bool("IMPORTS_SET_BASED", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
