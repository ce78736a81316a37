import os

import pytest
from django.core.files import File

from acme.lib import queues
from imports import progress, services
from imports.models import ImportJob
from imports.tasks import fail_lost_jobs, run_import_job
from products.models import Product
from tests.imports.jobs import BIG_ROWS, wait_for_job, wait_until_reading

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

KILL_PREFIX = f"{os.environ.get('CELERY_QUEUE', 'acme')}-kill"


def test_a_worker_killed_mid_import_leaves_the_catalogue_unchanged_and_retry_succeeds(
    celery_worker, start_worker, big_csv
):
    existing = Product.objects.create(sku="big-1", name="Kept as it was", description="old")
    # A worker of its own on a queue of its own: the session worker cannot take this job.
    doomed = start_worker(name="doomed", concurrency=1, CELERY_QUEUE=KILL_PREFIX)
    with big_csv.open("rb") as handle:
        job = ImportJob(original_name="big.csv", size=big_csv.stat().st_size)
        job.file.save("big.csv", File(handle), save=False)
        job.save()
    run_import_job.apply_async(args=[job.pk], queue=queues.queue_name(queues.IMPORTS, KILL_PREFIX))

    wait_until_reading(job.pk)
    doomed.kill()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING  # nobody has noticed yet
    assert fail_lost_jobs(timeout_seconds=0) == [job.pk]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("worker lost: the worker stopped while importing")
    assert "Retry" in job.error
    assert progress.read(job.pk) is None  # the live state went with the job
    assert list(Product.objects.values_list("sku", "name")) == [("big-1", "Kept as it was")]

    services.import_job_retry(job=job)
    job = wait_for_job(job.pk)

    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert job.attempts == 2
    counts = (job.rows_read, job.created, job.updated, job.unchanged, job.rows_rejected)
    assert counts == (BIG_ROWS, BIG_ROWS - 1, 1, 0, 0), (counts, Product.objects.count())
    assert Product.objects.count() == BIG_ROWS
    existing.refresh_from_db()
    assert existing.name == "Product 1"
