"""Receivers that drip their answers hold a webhook worker only until each attempt's
deadline, and never an import: with a real worker per queue, an import queued behind them
completes and another endpoint still gets its delivery."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from acme.celery import app
from acme.lib import queues
from imports import services
from imports.models import ImportJob
from tests.imports.jobs import wait_for_job, write_csv
from tests.support.waiting import wait_until
from webhooks.events import emit
from webhooks.models import Delivery, DeliveryAttempt

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DRIPPING = 6  # more deliveries than webhook pool processes, so they all get stuck


@pytest.fixture
def purge_after():
    yield
    app.control.purge()  # retries still queued must not reach later tests' workers


def test_while_receivers_drip_imports_and_other_endpoints_deliveries_carry_on(
    start_worker, drip_receiver, receiver, make_endpoint, purge_after, tmp_path
):
    start_worker(
        name="hooks", kinds=[queues.WEBHOOKS], concurrency=1, WEBHOOKS_TOTAL_TIMEOUT_SECONDS="3"
    )
    start_worker(name="imports", kinds=[queues.IMPORTS], concurrency=1)
    # A byte a second for ten minutes: no socket read ever waits long enough to time out.
    dripping = drip_receiver(phase="headers", every=1, seconds=600)
    slow = make_endpoint(dripping.url(), events=["product.created"])
    other = make_endpoint(receiver.url(), events=["product.updated"])
    with transaction.atomic():
        for number in range(DRIPPING):
            emit("product.created", {"id": number})
    wait_until(lambda: dripping.connections, what="a worker to start on the dripping receiver")

    with transaction.atomic():
        emit("product.updated", {"id": 1})
    job = services.import_job_create(
        uploaded_file=SimpleUploadedFile(
            "small.csv", write_csv(tmp_path / "small.csv", 200).read_bytes(), "text/csv"
        ),
        options={},
    )

    job = wait_for_job(job.pk, timeout=60)
    assert job.status == ImportJob.Status.COMPLETED, job.error
    wait_until(
        lambda: Delivery.objects.get(endpoint=other).status == Delivery.Status.SUCCEEDED,
        timeout=120,
        what="the other endpoint's delivery",
    )
    assert len(receiver.requests) == 1
    # The dripping receiver never finished an answer: every attempt ended at the deadline
    # and its delivery waits for a retry (the other endpoint's delivery, sent on another
    # thread of the same worker process, may have been recorded first).
    attempts = DeliveryAttempt.objects.filter(endpoint=slow)
    wait_until(attempts.exists, timeout=60, what="the dripping receiver's attempts")
    assert dripping.completed == 0
    assert set(attempts.values_list("error", flat=True)) == {"Timed out"}
    assert not Delivery.objects.filter(endpoint=slow, status=Delivery.Status.SUCCEEDED).exists()
