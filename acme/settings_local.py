"""Settings for a developer machine: manage.py's default, `make run`, `make test`.

acme.settings only reads the environment. Here, DATABASE_URL or REDIS_URL left unset (in the
environment and in .env) is filled in first: the embedded PostgreSQL or Redis under var/ is
started, or found running, and its URL exported to the environment, so every process started
from this one (gunicorn, the Celery worker and beat, a test's workers) uses the same servers.
With both set, these are exactly the production settings; with either unset, DEBUG defaults to
true (a developer's machine).
"""

import os
from pathlib import Path

import environ

from acme.lib import embedded, var_dir

_BASE_DIR = Path(__file__).resolve().parent.parent
# The same file acme.settings reads: URLs set there count as set.
environ.Env.read_env(_BASE_DIR / ".env")
_VAR_DIR = var_dir.from_environment(_BASE_DIR)
if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    # Embedded servers mean a developer's machine: DEBUG unless .env or the environment say
    # otherwise, so `manage.py` works from a shell as it does under `make` (which exports it).
    os.environ.setdefault("DEBUG", "true")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = embedded.postgres_url(_VAR_DIR)
if not os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = embedded.redis_url(_VAR_DIR)

from acme.settings import *  # noqa: E402, F403
