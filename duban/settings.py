"""One settings module, driven by environment variables (see docs/deployment.md)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from duban.env import env_bool, env_choice, env_int, env_ints, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("DUBAN_DATA_DIR", str(BASE_DIR.parent / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Take the key from the environment, else keep a generated one beside the data."""
    key = env_str("DUBAN_SECRET_KEY", "")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _audit_key() -> str:
    """The audit chain's HMAC key, from the environment, else generated once beside the data.

    It is not the secret key, so rotating that one (sessions, password resets) leaves the trail
    verifiable; it lives outside the database, so whoever edits the tables cannot re-sign them.
    The file is written under a temporary name and linked into place, so two processes starting
    together never read a half-written key.
    """
    key = env_str("DUBAN_AUDIT_KEY", "")
    if not key:
        path = DATA_DIR / "audit_key"
        if not path.exists():
            tmp = path.with_name(f".audit_key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = path.read_text().strip()
    if len(key) < 32:
        raise ImproperlyConfigured("DUBAN_AUDIT_KEY must be at least 32 characters long")
    if key == SECRET_KEY:
        raise ImproperlyConfigured("DUBAN_AUDIT_KEY must differ from DUBAN_SECRET_KEY")
    return key


DUBAN_AUDIT_KEY = _audit_key()
# Signed copies of the chain head, appended by `duban audit anchor` (the daily pass runs it).
# Keep the file off the database server, or ship each line elsewhere (docs/deployment.md).
DUBAN_AUDIT_ANCHOR = Path(env_str("DUBAN_AUDIT_ANCHOR", str(DATA_DIR / "audit-anchor.jsonl")))
DEBUG = env_bool("DUBAN_DEBUG", False)
ALLOWED_HOSTS = env_list("DUBAN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DUBAN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "duban.apps.DubanAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "axes",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "duban.core",
    "duban.jobs",
    "duban.accounts",
    "duban.orgs",
    "duban.audit",
    "duban.indicators",
    "duban.reporting",
    "duban.evaluation",
    "duban.tasks",
    "duban.meetings",
    "duban.bulletins",
    "duban.todo",
    "duban.records",
    "duban.cockpit",
    "duban.demo",
]

MIDDLEWARE = [
    "duban.web.proxy.ClientAddressMiddleware",  # first: the client's address behind nginx
    "django.middleware.security.SecurityMiddleware",
    # Early, so its header is on every answer, a lockout page or a static file's included.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (whose save on the way out is no write of the reader's): reads of a
    # safe request go to the replica unless this browser wrote lately (duban/core/dbrouting.py).
    "duban.core.dbrouting.ReadReplicaMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "duban.accounts.middleware.LanguageMiddleware",
    "duban.accounts.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "duban.accounts.middleware.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "duban.audit.middleware.AuditContextMiddleware",
    # Last, as django-axes asks: answers a locked-out sign-in with accounts/locked.html.
    "axes.middleware.AxesMiddleware",
]

# Sign-in lockout (duban/accounts/lockout.py): 5 failures in 15 minutes, per account name and
# per address, locked for 15 minutes or until the security administrator unlocks.
AUTHENTICATION_BACKENDS = [
    "duban.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("DUBAN_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DUBAN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "duban.accounts.lockout.locked_out"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # sign-ins and sign-outs are in the audit trail already
AXES_ENABLE_ADMIN = False  # locks are seen and lifted on the accounts page, under the policy

# Second factor (duban/accounts/second_factor.py): TOTP and recovery codes by django-otp,
# required of the three administrators (off for the demo, DUBAN_REQUIRE_SECOND_FACTOR=0).
# OTPMiddleware marks a session that passed the second step; right after authentication.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
DUBAN_REQUIRE_SECOND_FACTOR = env_bool("DUBAN_REQUIRE_SECOND_FACTOR", True)


def OTP_TOTP_ISSUER(device: object) -> str:  # django-otp calls it
    return str(_("Duban"))  # the phone's app lists "督办"


OTP_TOTP_THROTTLE_FACTOR = 1  # wrong codes in a row wait 1, 2, 4, 8 … seconds
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

ROOT_URLCONF = "duban.urls"
WSGI_APPLICATION = "duban.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "django.template.context_processors.i18n",
                "duban.context_processors.product",
                "duban.todo.context.todo",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'duban.sqlite3'}"),
        conn_max_age=env_int("DUBAN_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# A PostgreSQL streaming replica (hot standby) for the pages' reads, when DATABASE_REPLICA_URL
# names one (docs/deployment.md, "Several application servers", scripts/replica): writes,
# migrations, commands and the worker stay on the primary, and a reader who has just written
# reads the primary for DUBAN_READ_YOUR_WRITES_SECONDS (duban/core/dbrouting.py). In tests the
# replica is a mirror of the test database, which the router then leaves unused.
DUBAN_READ_REPLICA = ""
_replica_url = env_str("DATABASE_REPLICA_URL", "")
if _replica_url:
    DUBAN_READ_REPLICA = "replica"
    DATABASES[DUBAN_READ_REPLICA] = dj_database_url.parse(
        _replica_url, conn_max_age=env_int("DUBAN_DB_CONN_MAX_AGE", 0)
    )
    DATABASES[DUBAN_READ_REPLICA]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["duban.core.dbrouting.DubanRouter"]
DUBAN_READ_YOUR_WRITES_SECONDS = env_int("DUBAN_READ_YOUR_WRITES_SECONDS", 10)
# Read on the primary always: sessions, sign-in lockouts, second factors and the job queue
# (a stale row would sign someone out, let a locked account in, or show a job as waiting).
DUBAN_PRIMARY_APPS = frozenset(
    {"sessions", "axes", "otp_totp", "otp_static", "django_tasks_database", "jobs", "contenttypes"}
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # MLPS level 3: three of capitals, small letters, digits, symbols.
    {"NAME": "duban.accounts.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("DUBAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Front-end packages come from the npm registry (package.json, package-lock.json; `npm ci` in
# scripts/_setup.sh) and are served by the application itself: nothing loads from a CDN.
NODE_MODULES = Path(env_str("DUBAN_NODE_MODULES", str(BASE_DIR.parent / "node_modules")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
# Business records as Parquet files (duban.records.store): on the shared storage with the
# media folder, so every application server and the backup see them.
DUBAN_RECORD_STORE = Path(env_str("DUBAN_RECORD_STORE", str(MEDIA_ROOT / "record-store")))
# DuckDB's memory for a records import or recompute ("4GB"); blank: a quarter of the machine's.
DUBAN_DUCKDB_MEMORY = env_str("DUBAN_DUCKDB_MEMORY", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders: no collectstatic step to forget on install.
WHITENOISE_USE_FINDERS = True

# Sessions end with the browser and after 8 idle hours, as the MLPS rules ask.
# Idle expiry on the server (duban.accounts.middleware.SessionExpiryMiddleware): 30 minutes
# without a request end the session; 8 hours after sign-in it ends however busy.
SESSION_COOKIE_AGE = env_int("DUBAN_SESSION_IDLE_MINUTES", 30) * 60
DUBAN_SESSION_HOURS = env_int("DUBAN_SESSION_HOURS", 8)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DUBAN_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DUBAN_SECURE_COOKIES", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("DUBAN_SSL_REDIRECT", False)
# Behind a TLS-terminating proxy (nginx) the request reaches Duban over plain HTTP: the proxy
# says the original scheme in this header, and only then does the redirect above not loop.
# Set DUBAN_PROXY_SSL_HEADER=X-Forwarded-Proto only where that proxy sets (and strips) it.
_proxy_header = env_str("DUBAN_PROXY_SSL_HEADER", "")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
# The proxies whose X-Real-IP names the client (duban/web/proxy.py); none by default.
DUBAN_TRUSTED_PROXIES = env_list("DUBAN_TRUSTED_PROXIES", [])
SECURE_HSTS_SECONDS = env_int("DUBAN_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DUBAN_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
# The HSTS preload list is compiled into public browsers for internet sites; an intranet has no use for it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp; issue 15): only the site's own files, no inline script,
# style or handler anywhere, no eval (htmx's allowEval is off: templates/includes/htmx.html).
# JSON for a page's scripts sits in <script type="application/json"> (json_script): data, not
# script. A view that truly needs more says so with csp.decorators (none does, /api/docs neither).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # a document's charts (duban/documents), Swagger UI's icons
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DUBAN_IMPORT_MAX_BYTES = env_int("DUBAN_IMPORT_MAX_BYTES", 20 * 1024 * 1024)

PRODUCT_NAME = _("Duban")

# Evidence files attached to figures (docs/reporting.md).
DUBAN_EVIDENCE_MAX_BYTES = env_int("DUBAN_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)

# Key tasks (docs/tasks.md): when a task turns yellow, and when reminders go out.
DUBAN_TASK_WARN_DAYS = env_int("DUBAN_TASK_WARN_DAYS", 7)
DUBAN_TASK_BEHIND_POINTS = env_int("DUBAN_TASK_BEHIND_POINTS", 20)
DUBAN_TASK_REMIND_DAYS_BEFORE = env_ints("DUBAN_TASK_REMIND_DAYS_BEFORE", (7, 1))
DUBAN_TASK_REMIND_DAYS_AFTER = env_ints("DUBAN_TASK_REMIND_DAYS_AFTER", (1, 7))
DUBAN_TASK_SUPERVISE_DAYS_AFTER = env_ints("DUBAN_TASK_SUPERVISE_DAYS_AFTER", (14, 30))
DUBAN_TASK_SUPERVISION_REPLY_DAYS = env_int("DUBAN_TASK_SUPERVISION_REPLY_DAYS", 5)
DUBAN_TASK_MONTHLY_REPORT_DAY = env_int("DUBAN_TASK_MONTHLY_REPORT_DAY", 25)
DUBAN_TASK_EVIDENCE_MAX_BYTES = env_int("DUBAN_TASK_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)

# E-mail for reminders, only when an SMTP server is configured (EMAIL_HOST).
EMAIL_HOST = env_str("DUBAN_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DUBAN_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DUBAN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("DUBAN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DUBAN_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DUBAN_EMAIL_FROM", "duban@localhost")
# How people are told that something waits in their to-do (duban/todo/notify.py): "mail",
# "sms" (a hook that logs until a gateway is plugged in) or a channel class's dotted path.
DUBAN_NOTIFY_CHANNELS = env_list("DUBAN_NOTIFY_CHANNELS", ["mail"])
# The site's address as people open it, for the links in those messages ("" = paths only).
DUBAN_SITE_URL = env_str("DUBAN_SITE_URL", "")

# Operational logs (docs/deployment.md, "Logs"): key=value lines on stderr with the request id
# and the actor (duban/logs.py). DUBAN_LOG_LEVEL sets Duban's own loggers (duban.reporting,
# duban.tasks …), DUBAN_LOG_LEVEL_OTHERS Django's and the libraries'.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "duban.logs.ContextFilter"}},
    "formatters": {"kv": {"()": "duban.logs.KeyValueFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": "kv"}
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("DUBAN_LOG_LEVEL_OTHERS", "WARNING", LOG_LEVELS),
    },
    "loggers": {"duban": {"level": env_choice("DUBAN_LOG_LEVEL", "INFO", LOG_LEVELS)}},
}

# Background work (recomputation, large imports, documents) is queued in the database and run
# by `duban worker`: SQLite and PostgreSQL alike, no broker to install.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Read-heavy pages (the cockpit) are kept as rendered per reader's session until the data
# change (duban.web.cache: keyed by the audit chain's head). Each server process keeps its
# own; nothing is shared, so several servers behind a proxy need nothing more.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "duban"},
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "duban-pages",
        "OPTIONS": {"MAX_ENTRIES": env_int("DUBAN_PAGE_CACHE_ENTRIES", 500)},
    },
}
