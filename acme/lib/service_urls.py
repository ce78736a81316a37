"""The two servers the site needs, named by DATABASE_URL and REDIS_URL.

The settings only read them. Whatever needs the servers asks `missing()` first and refuses to
start with one message naming what to set: the `services` system check (manage.py commands,
gunicorn through acme.wsgi) and the Celery worker and beat (acme.celery).
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

HINT = (
    "Set DATABASE_URL (postgres://user:password@host:5432/db) and REDIS_URL "
    "(redis://host:6379/0), in the environment or in .env; see .env.example. On a developer "
    "machine, `make run`, `make test` and manage.py (DJANGO_SETTINGS_MODULE=acme.settings_local) "
    "start embedded servers for the unset ones instead."
)


def missing() -> list[str]:
    """The names of the variables the settings were loaded without."""
    return [name for name in ("DATABASE_URL", "REDIS_URL") if not getattr(settings, name, "")]


def _not_set() -> str:
    return " ".join(f"{name} is not set." for name in missing())


def require() -> None:
    """Raise ImproperlyConfigured naming what to set, if anything is missing."""
    if missing():
        raise ImproperlyConfigured(f"{_not_set()} {HINT}")


def check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The `services` system check (registered in acme.apps)."""
    if not missing():
        return []
    return [checks.Error(_not_set(), hint=HINT, id="acme.E001")]
