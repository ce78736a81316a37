"""Redis killed and started again while the worker holds an import's message (acks_late):
the worker reconnects instead of dying (celery 5.7.0 died with "Unrecoverable error:
AttributeError: 'NoneType' object has no attribute 'hostname'"), the import completes and
the next one runs."""

import os

import pytest
from django.core.files import File

from acme.celery import app
from acme.lib import queues, redis_urls
from imports.models import ImportJob
from imports.tasks import run_import_job
from tests.imports.jobs import BIG_ROWS, wait_for_job
from tests.support.scratch_servers import ScratchRedis
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"{os.environ.get('CELERY_QUEUE', 'acme')}-redis-restart"


def _send(job: ImportJob, redis: ScratchRedis) -> None:
    with app.connection_for_write(redis_urls.broker_url(redis.url)) as connection:
        run_import_job.apply_async(
            args=[job.pk], queue=queues.queue_name(queues.IMPORTS, QUEUE), connection=connection
        )


def _job(path) -> ImportJob:
    with path.open("rb") as handle:
        job = ImportJob(original_name=path.name, size=path.stat().st_size)
        job.file.save(path.name, File(handle), save=False)
        job.save()
    return job


def test_the_worker_rides_out_a_redis_restart_while_it_runs_an_import(
    start_worker, big_csv, tmp_path_factory
):
    redis = ScratchRedis(tmp_path_factory.mktemp("redis")).start()
    try:
        worker = start_worker(name="redis-restart", gossip=True, CELERY_QUEUE=QUEUE,
                              REDIS_URL=redis.url)  # fmt: skip
        job = _job(big_csv)
        _send(job, redis)
        wait_until(
            lambda: ImportJob.objects.filter(pk=job.pk, status="running").exclude(phase=""),
            what="the worker to hold the import",
        )

        redis.kill()
        wait_until(lambda: "Connection to broker lost" in worker.log_path.read_text(),
                   what="the worker to notice")  # fmt: skip
        redis.start()

        job = wait_for_job(job.pk)
        assert job.status == ImportJob.Status.COMPLETED, job.error
        assert job.rows_read == BIG_ROWS
        assert worker.process.poll() is None, worker.log_path.read_text()[-3000:]

        following = _job(big_csv)
        _send(following, redis)
        following = wait_for_job(following.pk)
        assert following.status == ImportJob.Status.COMPLETED, following.error
        assert "Unrecoverable error" not in worker.log_path.read_text()
    finally:
        redis.kill()
