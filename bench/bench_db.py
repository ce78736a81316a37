"""The bench databases: where they live and how they are made (shared by every bench script).

A bench database sits on the app's PostgreSQL server: BENCH_SERVER_URL (postgres://user@host:port)
when set, else the embedded PostgreSQL 18 under var/postgres. `ensure_database` creates it if
missing and migrates it with this checkout's migrations. Bench scripts run as
`python bench/<script>.py`, so this module is importable as `bench_db` beside them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_SOCKET_DIR = ROOT / "var" / "postgres"


def server_url(database: str = "postgres") -> str:
    """postgres:// URL of `database` on the bench server."""
    base = os.environ.get("BENCH_SERVER_URL")
    if base:
        return f"{base.rstrip('/')}/{database}"
    return f"postgres://postgres@{quote(str(EMBEDDED_SOCKET_DIR), safe='')}:5432/{database}"


def libpq_url(url: str) -> str:
    """The same URL in the scheme libpq (psycopg) accepts."""
    return url.replace("postgres://", "postgresql://", 1)


def ensure_database(url: str, env: dict[str, str] | None = None) -> str:
    """Create the database `url` names if missing, migrate it (with `env` for manage.py, by
    default this environment with DATABASE_URL=url and DEBUG on) and return `url`."""
    server, name = url.rsplit("/", 1)
    with psycopg.connect(libpq_url(f"{server}/postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = env or {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, check=True
    )
    return url
