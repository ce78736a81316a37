import os

import pytest
from django.core.files import File

from acme.lib import queues
from imports.models import ImportJob
from imports.tasks import run_import_job
from products.models import Product
from tests.imports.jobs import wait_for_job

# A worker of its own (its own queue prefix): the session worker cannot take this job.
LIMITED_PREFIX = f"{os.environ.get('CELERY_QUEUE', 'acme')}-limited"


def test_each_kind_of_task_has_the_time_limits_of_its_kind(settings):
    from webhooks.tasks import send_delivery

    assert run_import_job.soft_time_limit == settings.IMPORT_TIME_LIMIT_SECONDS
    assert send_delivery.soft_time_limit == settings.WEBHOOKS_TASK_TIME_LIMIT_SECONDS
    assert send_delivery.time_limit < run_import_job.soft_time_limit


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_import_past_its_time_limit_is_failed_and_the_catalogue_unchanged(start_worker, big_csv):
    start_worker(name="limited", concurrency=1, kinds=[queues.IMPORTS], CELERY_QUEUE=LIMITED_PREFIX)
    Product.objects.create(sku="big-1", name="Kept as it was")
    with big_csv.open("rb") as handle:
        job = ImportJob(original_name="big.csv", size=big_csv.stat().st_size)
        job.file.save("big.csv", File(handle), save=False)
        job.save()

    # The limits travel in the message, as sent with IMPORT_TIME_LIMIT_SECONDS=1.
    run_import_job.apply_async(
        args=[job.pk],
        queue=queues.queue_name(queues.IMPORTS, LIMITED_PREFIX),
        soft_time_limit=1,
        time_limit=61,
    )
    job = wait_for_job(job.pk)

    assert job.status == ImportJob.Status.FAILED
    assert "time limit" in job.error and "IMPORT_TIME_LIMIT_SECONDS" in job.error
    assert "catalogue is unchanged" in job.error
    assert list(Product.objects.values_list("sku", "name")) == [("big-1", "Kept as it was")]
