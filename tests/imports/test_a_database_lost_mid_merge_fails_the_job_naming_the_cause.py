"""PostgreSQL killed (SIGKILL) during the merge and started again: the worker notices its
broken connection, waits for the database and fails the job saying so (not 76 s later as
"worker lost"); the catalogue is unchanged and Retry imports the file."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.imports.jobs import BIG_ROWS
from tests.support.scratch_servers import ScratchPostgres
from tests.support.waiting import wait_until
from tests.support.worker import BASE_DIR, subprocess_env

pytestmark = [pytest.mark.worker]

QUEUE = f"{os.environ.get('CELERY_QUEUE', 'acme')}-db-loss"


def _manage(postgres: ScratchPostgres, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, capture_output=True, text=True,
        env=subprocess_env(DATABASE_URL=postgres.url, CELERY_QUEUE=QUEUE), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def _query(postgres: ScratchPostgres, sql: str, *params):
    try:
        with psycopg.connect(host=str(postgres.pgdata), user="postgres",
                             dbname=postgres.database, connect_timeout=2) as conn:  # fmt: skip
            return conn.execute(sql, params).fetchone()
    except psycopg.OperationalError:
        return None  # down or still recovering


def test_a_database_lost_mid_merge_fails_the_job_naming_the_cause(start_worker, big_csv):
    # Not under pytest's basetemp: another pytest run makes /tmp/pytest-of-<user> 0700
    # again, and the server runs as another user when the suite runs as root.
    directory = Path(tempfile.mkdtemp(prefix="acme-db-loss-"))
    postgres = ScratchPostgres(directory).start()
    try:
        _manage(postgres, "migrate", "-v", "0")
        start_worker(
            name="db-loss",
            concurrency=1,
            CELERY_QUEUE=QUEUE,
            DATABASE_URL=postgres.url,
            # The row's phase comes with the heartbeat: often enough not to miss a short merge.
            IMPORT_HEARTBEAT_SECONDS="0.2",
        )
        job_id = int(_manage(postgres, "shell", "-c",
                             "from imports import services; print(services.import_job_create_"
                             f"from_path(path='{big_csv}', options={{}}).pk)"))  # fmt: skip
        state = "SELECT status, phase, error FROM imports_importjob WHERE id = %s"
        wait_until(lambda: (_query(postgres, state, job_id) or ("", ""))[1] == "merging",
                   timeout=120, every=0.02, what="the merge")  # fmt: skip

        postgres.kill()
        time.sleep(2)
        postgres.start()

        status, phase, error = wait_until(
            lambda: (row := _query(postgres, state, job_id)) and row[0] != "running" and row,
            timeout=60,
            what="the job to be failed after the database came back",
        )
        assert (status, phase) == ("failed", "merging"), error
        assert error.startswith(
            "the database connection was lost during the merge; the catalogue is unchanged."
        ), error
        assert _query(postgres, "SELECT count(*) FROM products_product") == (0,)

        _manage(postgres, "shell", "-c",
                "from imports import services; from imports.models import ImportJob; "
                f"services.import_job_retry(job=ImportJob.objects.get(pk={job_id}))")  # fmt: skip
        wait_until(lambda: (_query(postgres, state, job_id) or ("",))[0] == "completed",
                   timeout=120, what="the retried import")  # fmt: skip
        assert _query(postgres, "SELECT count(*) FROM products_product") == (BIG_ROWS,)
    finally:
        postgres.kill()
        shutil.rmtree(directory, ignore_errors=True)
