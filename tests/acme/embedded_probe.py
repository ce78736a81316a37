"""Loads the local settings with no DATABASE_URL/REDIS_URL (so the embedded servers are used),
then writes or reads a marker in both PostgreSQL and Redis and prints what it saw, and the
URLs exported for child processes."""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings_local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from acme.lib.redis_client import get_redis  # noqa: E402

action = sys.argv[1]
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid(), current_setting('server_version_num')::int")
    _, version = cursor.fetchone()
    cursor.execute("SELECT version FROM pg_available_extension_versions WHERE name = 'pg_trgm'")
    has_trgm = cursor.fetchone() is not None
    if action == "write":
        cursor.execute("CREATE TABLE IF NOT EXISTS embedded_probe (marker text)")
        cursor.execute("INSERT INTO embedded_probe VALUES (%s)", [sys.argv[2]])
        get_redis().set("acme:embedded-probe", sys.argv[2])
        seen = sys.argv[2]
    else:
        cursor.execute("SELECT marker FROM embedded_probe")
        seen = {"postgres": cursor.fetchone()[0], "redis": get_redis().get("acme:embedded-probe")}
    cursor.execute("SELECT pg_postmaster_start_time()::text")
    started = cursor.fetchone()[0]

print(
    json.dumps(
        {
            "host": settings.DATABASES["default"]["HOST"],
            "redis": settings.REDIS_URL,
            "server_version_num": version,
            "pg_trgm_available": has_trgm,
            "postmaster_started": started,
            "seen": seen,
            "exported": [os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")],
        }
    )
)
