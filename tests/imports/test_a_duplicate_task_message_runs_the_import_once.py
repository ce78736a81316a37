import pytest
from django.conf import settings

from imports import services
from imports.models import ImportJob
from imports.tasks import run_import_job
from products.models import Product
from tests.imports.jobs import SAMPLE_PRODUCTS, wait_for_job
from tests.support.waiting import wait_until
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_duplicate_task_message_runs_the_import_once(celery_worker, staff_user, sample_upload):
    WebhookEndpoint.objects.create(url="https://example.invalid/hook",
                                   events=["import.completed", "import.failed"])  # fmt: skip
    job = services.import_job_create(uploaded_file=sample_upload, options={}, user=staff_user)
    # The same message again, as a broker redelivery would do; the worker has two processes.
    run_import_job.delay(job.pk)
    run_import_job.delay(job.pk)

    job = wait_for_job(job.pk)
    # Let the duplicates be consumed: the queue drains once the worker has taken them all.
    from acme.celery import app

    def queue_empty():
        with app.connection_for_write() as connection:
            return connection.default_channel.client.llen(settings.ACME_QUEUES["imports"]) == 0

    wait_until(queue_empty, timeout=30, what="the duplicate messages to be consumed")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert job.attempts == 1
    assert job.created == SAMPLE_PRODUCTS
    assert Product.objects.count() == SAMPLE_PRODUCTS
    assert Delivery.objects.filter(event_type="import.completed").count() == 1


@pytest.mark.django_db
def test_a_message_for_a_job_that_is_not_queued_does_nothing():
    job = ImportJob.objects.create(original_name="x.csv", size=1, status="completed")

    run_import_job(job.pk)  # in-process, as the worker would call it

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("completed", 0)
