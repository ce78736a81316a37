"""Imports and webhook deliveries have queues (and workers) of their own: a backlog of
deliveries to receivers that never answer does not keep an import waiting."""

import socket

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
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ENDPOINTS = 70


@pytest.fixture
def hanging_receiver():
    """A port that accepts connections (in the kernel's backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(ENDPOINTS * 2)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def purge_after():
    yield
    app.control.purge()  # the backlog's messages must not reach later tests' workers


def test_an_import_starts_while_a_webhook_backlog_waits(
    start_worker, hanging_receiver, purge_after, tmp_path
):
    start_worker(name="hooks", kinds=[queues.WEBHOOKS], concurrency=2)
    start_worker(name="imports", kinds=[queues.IMPORTS], concurrency=1)
    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(url=f"{hanging_receiver}/{number}", events=["product.created"])
        for number in range(ENDPOINTS)
    )
    with transaction.atomic():
        emit("product.created", {"id": 1, "sku": "A-1"})
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.SENDING).exists(),
        what="the webhook worker to be stuck on the receivers",
    )

    job = services.import_job_create(
        uploaded_file=SimpleUploadedFile(
            "small.csv", write_csv(tmp_path / "small.csv", 200).read_bytes(), "text/csv"
        ),
        options={},
    )
    wait_until(
        lambda: ImportJob.objects.get(pk=job.pk).status != ImportJob.Status.QUEUED,
        timeout=60,
        what="the import to leave the queue",
    )

    unfinished = Delivery.objects.exclude(
        status__in=[Delivery.Status.SUCCEEDED, Delivery.Status.FAILED]
    ).count()
    assert unfinished > ENDPOINTS // 2  # the backlog is still there: the import did not wait
    job = wait_for_job(job.pk)
    assert job.status == ImportJob.Status.COMPLETED, job.error
