"""Loads settings in a fresh process and prints the parts the settings tests check."""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")

from django.conf import settings  # noqa: E402

db = settings.DATABASES["default"]
print(
    json.dumps(
        {
            "database": {k: db.get(k) for k in ("HOST", "PORT", "NAME", "USER", "OPTIONS")},
            "conn_max_age": db.get("CONN_MAX_AGE"),
            "redis_client_url": settings.REDIS_CLIENT_URL,
            "redis_client_options": {k: int(v) for k, v in settings.REDIS_CLIENT_OPTIONS.items()},
            "broker_url": settings.CELERY_BROKER_URL,
            "broker_use_ssl": {
                k: int(v) for k, v in (settings.CELERY_BROKER_USE_SSL or {}).items()
            },
            "cache_location": settings.CACHES["default"]["LOCATION"],
        },
        default=str,
    )
)
