"""Settings, all from the environment (12-factor), read with django-environ.

DATABASE_URL / REDIS_URL default to the embedded PostgreSQL and Redis that `make run` starts under var/
(peatio_mgmt.embedded) — real servers, never SQLite: the ledger needs exact NUMERIC and row locks.
peatio_mgmt.settings.test is this with a development secret key, for pytest.
"""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("PEATIO_VAR_DIR", default=str(BASE_DIR / "var")))


def database_from_url(url: str, *, pool: bool | None = None) -> dict:
    """postgres://user:password@host:port/name?host=/socket/dir&sslmode=... -> Django DATABASES entry.

    `pool`: psycopg_pool (the default, DATABASE_POOL) or one persistent connection per thread.
    django-environ keeps libpq's `?host=` (the socket directory of the embedded server) among the OPTIONS, where
    psycopg would take it as a connection parameter over HOST; it is the HOST.
    """
    database = environ.Env.db_url_config(url)
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"DATABASE_URL: only PostgreSQL is supported, got {urlsplit(url).scheme!r}")
    database["ENGINE"] = "peatio_mgmt.postgresql"  # Django's, pooled connections checked as they are taken
    options = database.setdefault("OPTIONS", {})
    if options.get("host"):
        database["HOST"] = options.pop("host")
    database["NAME"] = database.get("NAME") or "postgres"
    database["USER"] = database.get("USER") or "postgres"
    database["PORT"] = str(database.get("PORT") or "")
    if env.bool("DATABASE_POOL", default=True) if pool is None else pool:
        # psycopg_pool, one pool per process and alias: a request takes a connection at its first query and gives
        # it back at its end (Django closes it, CONN_MAX_AGE 0, which returns it to the pool). A connection the
        # server ended while it was idle (a restart) is replaced as it is taken, seen on its socket without a round
        # trip (the ENGINE, peatio_mgmt.postgresql); the `SELECT 1` of CONN_HEALTH_CHECKS, the round trip per
        # request the pool removes, only with DATABASE_POOL_CHECK=1 (docs/deploy.md).
        database["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            # a process never holds more connections at once than it runs requests or tasks (gunicorn threads)
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10),
            "max_idle": 300,
        }
        database["CONN_MAX_AGE"] = 0
        database["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_POOL_CHECK", default=False)
    else:
        database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        database["CONN_HEALTH_CHECKS"] = True
    return database


def celery_broker_from_url(url: str) -> str:
    """REDIS_URL as kombu wants it: redis-py's `unix:///path?db=N` is kombu's `redis+socket:///path?virtual_host=N`."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    db = parse_qs(parts.query).get("db", ["0"])[-1]
    return f"redis+socket://{parts.path}?virtual_host={db}"


DEBUG = env.bool("DJANGO_DEBUG", default=False)
PEATIO_DEV_DEFAULTS = env.bool("PEATIO_DEV_DEFAULTS", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and not PEATIO_DEV_DEFAULTS:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (or DJANGO_DEBUG=1 for development)")
    SECRET_KEY = "insecure-development-key-never-use-in-production"
ALLOWED_HOSTS = [h.strip() for h in env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"]) if h.strip()]

if env.str("DATABASE_URL", default=""):
    DATABASE_URL = env.str("DATABASE_URL")
else:
    from peatio_mgmt.embedded import embedded_database_url

    DATABASE_URL = embedded_database_url(VAR_DIR)
if env.str("REDIS_URL", default=""):
    REDIS_URL = env.str("REDIS_URL")
else:
    from peatio_mgmt.embedded import embedded_redis_url

    REDIS_URL = embedded_redis_url(VAR_DIR)

DATABASES = {"default": database_from_url(DATABASE_URL)}
# A streaming replica of the primary: the management API's read routes use it (peatio_mgmt.db_router).
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_from_url(DATABASE_REPLICA_URL)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["peatio_mgmt.db_router.ReplicaRouter"]
# Read-your-writes: for this many seconds after a partner's last write, its reads go to the primary.
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "peatio_mgmt",
    "ledger",
    "deposits",
    "withdraws",
    "trades",
    "operators",
    "seeding",
    "events",
]

MIDDLEWARE = [
    "peatio_mgmt.log.RequestIdMiddleware",
    "peatio_mgmt.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "peatio_mgmt.nul_bytes.RefuseNulBytesMiddleware",  # before CSRF and the views read a form
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "peatio_mgmt.urls"
# The apps' management API routes, concatenated flat under /api/v2/management/ (peatio_mgmt.management_api.urls).
MANAGEMENT_API_URLCONFS = ["ledger.urls", "deposits.urls", "withdraws.urls", "trades.urls", "events.urls"]
WSGI_APPLICATION = "peatio_mgmt.wsgi.application"
APPEND_SLASH = False

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
            ],
        },
    },
]

# Operators log in to the admin with their email (case-insensitive); permissions as Django's ModelBackend.
AUTHENTICATION_BACKENDS = ["operators.auth.EmailBackend"]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"  # the console is the only site: a login without `next` lands on its dashboard
# Lockout (operators.lockout): this many failed logins per email + IP within the window refuse that pair's logins
# for the lockout period (counters in Redis).
OPERATOR_LOGIN_MAX_FAILURES = env.int("OPERATOR_LOGIN_MAX_FAILURES", default=5)
OPERATOR_LOGIN_WINDOW_SECONDS = env.int("OPERATOR_LOGIN_WINDOW_SECONDS", default=900)
OPERATOR_LOGIN_LOCKOUT_SECONDS = env.int("OPERATOR_LOGIN_LOCKOUT_SECONDS", default=900)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG and not PEATIO_DEV_DEFAULTS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# DRF serves only the management API; its classes are set on the base viewset (peatio_mgmt.management_api.views).
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "peatio_mgmt.management_api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "peatio_mgmt.management_api.schema.ManagementAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Peatio Management API v2",
    "DESCRIPTION": "Privileged server-to-server API. Every request body is a multi-signature JWS.",
    "VERSION": "2.2.31",
    "SCHEMA_PATH_PREFIX": "/api/v2/management/",
    "AUTHENTICATION_WHITELIST": [],  # the JWS is the request body, described per route (management_api.schema)
    "POSTPROCESSING_HOOKS": ["peatio_mgmt.management_api.schema.normalise_paths"],
}

# The management API (peatio_mgmt.management_api): YAML keychain, jwt options, scopes.
MANAGEMENT_API_CONFIG = env.str("MANAGEMENT_API_CONFIG", default="")

# Celery: broker and results on Redis; tasks acknowledged after they ran (a killed worker's task is redelivered).
CELERY_BROKER_URL = celery_broker_from_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
# A worker survives a broker restart (tests/faults/test_broker_restart.py):
# - it reconnects for as long as the broker is away (the default gives up after 100 attempts and the worker exits),
#   also when the broker is down at start;
# - tasks still running when the connection is lost are cancelled and redelivered instead of finishing later and
#   acknowledging on the dead channel ("Couldn't ack"). Every task is idempotent on its rows, so a redelivery is
#   safe; a send already made is found by its tid.
# The worker that exited for good on a Redis restart was celery 5.7.0 itself (pinned below it in pyproject.toml).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# One queue per kind of work, so each can get its own workers and a slow gateway cannot starve the audit or the
# books check (docs/deploy.md: `-Q gateway`). Declaring them all makes the plain `celery -A peatio_mgmt worker`
# consume every one of them: a worker started the standard way serves the whole back office.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", "audit", "gateway", "confirmations", "books", "scan", "events")]
CELERY_TASK_ROUTES = {
    "withdraws.tasks.audit*": {"queue": "audit"},
    "withdraws.tasks.send*": {"queue": "gateway"},
    "withdraws.tasks.retry*": {"queue": "gateway"},
    "withdraws.tasks.confirm*": {"queue": "confirmations"},
    "withdraws.tasks.broadcast*": {"queue": "gateway"},
    "deposits.tasks.scan*": {"queue": "scan"},
    "ledger.tasks.*": {"queue": "books"},
    "events.tasks.*": {"queue": "events"},
}

# Workers (domain.md §7); intervals in whole seconds.
WITHDRAW_AUDIT_INTERVAL = env.int("WITHDRAW_AUDIT_INTERVAL", default=5)
WITHDRAW_RETRY_INTERVAL = env.int("WITHDRAW_RETRY_INTERVAL", default=30)
WITHDRAW_CONFIRM_INTERVAL = env.int("WITHDRAW_CONFIRM_INTERVAL", default=5)
WITHDRAW_MAX_ATTEMPTS = env.int("WITHDRAW_MAX_ATTEMPTS", default=5)
WITHDRAW_STALE_SEND_AFTER = env.int("WITHDRAW_STALE_SEND_AFTER", default=120)
LEDGER_BOOKS_CHECK_INTERVAL = env.int("LEDGER_BOOKS_CHECK_INTERVAL", default=3600)
# The journal lists' Total counts live only the postings made since the last checkpoint (ledger.checkpoints).
LEDGER_JOURNAL_CHECKPOINT_INTERVAL = env.int("LEDGER_JOURNAL_CHECKPOINT_INTERVAL", default=30)
SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND = env.int("SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND", default=1)
SIMULATED_GATEWAY_HOT_WALLET_BALANCE: dict[str, str] = {}
# Coin deposits and the ethereum gateway (coin-deposits-ethereum-events.md, settings table).
DEPOSIT_SCAN_INTERVAL = env.int("DEPOSIT_SCAN_INTERVAL", default=5)
DEPOSIT_SCAN_MAX_BLOCKS = env.int("DEPOSIT_SCAN_MAX_BLOCKS", default=100)
DEPOSIT_REORG_DEPTH = env.int("DEPOSIT_REORG_DEPTH", default=32)
DEPOSIT_ORPHAN_TIMEOUT = env.int("DEPOSIT_ORPHAN_TIMEOUT", default=86400)
ETHEREUM_RPC_TIMEOUT = env.int("ETHEREUM_RPC_TIMEOUT", default=10)
ETHEREUM_STUCK_AFTER = env.int("ETHEREUM_STUCK_AFTER", default=1800)
# The partner event stream (coin-deposits-ethereum-events.md §16). Intervals and delays are whole seconds in
# production; fractions are accepted so that tests can run the backoff of an hour in seconds.
PARTNER_EVENTS_CONFIG = env.str("PARTNER_EVENTS_CONFIG", default="")
EVENTS_SEQUENCE_INTERVAL = env.float("EVENTS_SEQUENCE_INTERVAL", default=1)
EVENTS_DELIVERY_INTERVAL = env.float("EVENTS_DELIVERY_INTERVAL", default=1)
EVENTS_HTTP_TIMEOUT = env.float("EVENTS_HTTP_TIMEOUT", default=10)
EVENTS_RETRY_BASE_DELAY = env.float("EVENTS_RETRY_BASE_DELAY", default=1)
EVENTS_RETRY_MAX_DELAY = env.float("EVENTS_RETRY_MAX_DELAY", default=300)
EVENTS_MAX_ATTEMPTS = env.int("EVENTS_MAX_ATTEMPTS", default=8)
EVENTS_DELIVERY_BATCH = env.int("EVENTS_DELIVERY_BATCH", default=500)
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=90)
# Benchmarks only (bench/events.py): the cost of the outbox write is measured by switching it off.
EVENTS_OUTBOX = env.bool("EVENTS_OUTBOX", default=True)

# Periodic tasks (celery beat).
CELERY_BEAT_SCHEDULE = {
    "audit-withdraws": {"task": "withdraws.tasks.audit_withdraws", "schedule": WITHDRAW_AUDIT_INTERVAL},
    "retry-withdraws": {"task": "withdraws.tasks.retry_withdraws", "schedule": WITHDRAW_RETRY_INTERVAL},
    "confirm-withdraws": {"task": "withdraws.tasks.confirm_withdraws", "schedule": WITHDRAW_CONFIRM_INTERVAL},
    "scan-deposits": {"task": "deposits.tasks.scan_deposits", "schedule": DEPOSIT_SCAN_INTERVAL},
    "ledger-books-check": {"task": "ledger.tasks.books_check", "schedule": LEDGER_BOOKS_CHECK_INTERVAL},
    "ledger-journal-checkpoint": {"task": "ledger.tasks.journal_checkpoint_advance",
                                  "schedule": LEDGER_JOURNAL_CHECKPOINT_INTERVAL},
    "sequence-events": {"task": "events.tasks.sequence_events", "schedule": EVENTS_SEQUENCE_INTERVAL},
    "deliver-events": {"task": "events.tasks.deliver_events", "schedule": EVENTS_DELIVERY_INTERVAL},
    "prune-events": {"task": "events.tasks.prune_events", "schedule": 86400},
}

# LOG_FORMAT=json: one JSON object per record, with the request id (peatio_mgmt.log).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "peatio_mgmt.log.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "peatio_mgmt.log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env.str("LOG_FORMAT", default="") == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
