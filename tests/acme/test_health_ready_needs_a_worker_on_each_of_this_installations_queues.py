"""Readiness asks the workers which queues they consume: each queue of this installation
(imports, webhooks, housekeeping) needs a consumer. A worker of another installation on the
same Redis, or only the housekeeping worker, is not enough, and the answer names what is
missing."""

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from acme.lib import health, queues
from tests.support.worker import WorkerProcess


@pytest.fixture
def installation():
    """Queue names no other test's worker consumes (the session worker uses the suite's)."""
    prefix = f"acme-health-{time.monotonic_ns()}"
    cache.delete(health.WORKER_CHECK_CACHE_KEY)
    with override_settings(ACME_QUEUES=queues.queue_names(prefix)):
        yield prefix
    cache.delete(health.WORKER_CHECK_CACHE_KEY)


def ready(client) -> tuple[int, dict]:
    cache.delete(health.WORKER_CHECK_CACHE_KEY)
    response = client.get("/health/ready")
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_only_a_housekeeping_worker_is_not_ready_and_the_missing_kinds_are_named(
    staff_client, installation
):
    worker = WorkerProcess(name="housekeeping-only", kinds=[queues.HOUSEKEEPING],
                           concurrency=1, CELERY_QUEUE=installation).start()  # fmt: skip
    try:
        status, body = ready(staff_client)
    finally:
        worker.stop()
    assert status == 503
    assert body["failed"] == ["worker"]
    assert queues.IMPORTS in body["checks"]["worker"]
    assert queues.WEBHOOKS in body["checks"]["worker"]
    assert queues.HOUSEKEEPING not in body["checks"]["worker"].split(":")[-1]


@pytest.mark.django_db(transaction=True)
def test_a_worker_of_another_installation_on_the_same_redis_is_not_ready(
    staff_client, installation
):
    worker = WorkerProcess(name="other-installation", concurrency=1,
                           CELERY_QUEUE=f"{installation}-other").start()  # fmt: skip
    try:
        status, body = ready(staff_client)
    finally:
        worker.stop()
    assert status == 503
    assert body["failed"] == ["worker"]


@pytest.mark.django_db(transaction=True)
def test_workers_on_every_queue_of_this_installation_are_ready(staff_client, installation):
    worker = WorkerProcess(name="every-queue", concurrency=1,
                           CELERY_QUEUE=installation).start()  # fmt: skip
    try:
        status, body = ready(staff_client)
    finally:
        worker.stop()
    assert status == 200, body
    assert body["checks"]["worker"] == "ok"
