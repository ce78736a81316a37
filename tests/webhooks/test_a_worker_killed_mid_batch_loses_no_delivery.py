"""One webhook worker process sends a batch of deliveries at once, on its sending threads;
SIGKILLed while the batch waits for its answers, it loses none of them: the poller queues the
batch again once it is older than an attempt can last, and another worker sends it. Only the
deliveries that were in flight at the kill may arrive twice (at-least-once, same
webhook-id)."""

import json
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from acme.celery import app
from acme.lib import queues
from tests.support.waiting import wait_until
from webhooks.events import emit
from webhooks.models import Delivery
from webhooks.tasks import send_due_deliveries

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EVENTS = 12
THREADS = 4


@pytest.fixture
def purge_after():
    yield
    app.control.purge()  # wake-ups still queued must not reach later tests' workers


def test_a_worker_killed_mid_batch_loses_no_delivery(
    start_worker, receiver, make_endpoint, purge_after
):
    worker = start_worker(
        name="batch", kinds=[queues.WEBHOOKS], concurrency=1, WEBHOOKS_SENDER_THREADS=str(THREADS)
    )
    make_endpoint(receiver.url(), events=["product.created"], rate_limit=1000)
    held = threading.Event()
    # The first two answers come back; every later request waits until the worker is dead.
    receiver.on_request = lambda index: index >= 2 and held.wait(timeout=60)
    with transaction.atomic():
        for number in range(EVENTS):
            emit("product.created", {"id": number})

    # One pool process has THREADS requests in flight at once (2 answered, then a batch).
    receiver.wait_for(2 + THREADS, timeout=60)
    worker.kill()
    held.set()
    in_flight = set(Delivery.objects.filter(status="sending").values_list("msg_id", flat=True))
    assert len(in_flight) >= THREADS - 1  # (a claim may have been cut short by the kill)

    # Beat's poller, once the batch is older than an attempt can last, then a new worker.
    Delivery.objects.filter(status="sending").update(claimed_at=timezone.now() - timedelta(hours=1))
    receiver.on_request = None
    start_worker(name="batch-after", kinds=[queues.WEBHOOKS], concurrency=1)

    def beat_until_all_succeeded() -> bool:
        send_due_deliveries()
        time.sleep(1)
        return Delivery.objects.filter(status="succeeded").count() == EVENTS

    wait_until(beat_until_all_succeeded, timeout=90, what="every delivery to succeed")

    received = Counter(request.headers["webhook-id"] for request in receiver.requests)
    expected = set(Delivery.objects.values_list("msg_id", flat=True))
    assert set(received) == expected  # nothing lost
    duplicated = {msg_id for msg_id, count in received.items() if count > 1}
    assert duplicated <= in_flight  # only what was in flight at the kill came twice
    assert max(received.values()) <= 2
    ids = sorted(json.loads(request.body)["data"]["id"] for request in receiver.requests)
    assert set(ids) == set(range(EVENTS))
