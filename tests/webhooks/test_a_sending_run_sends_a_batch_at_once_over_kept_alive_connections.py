"""A worker's sending run claims queued deliveries in batches, sends them on its threads over
kept-alive connections (not one new connection per delivery), and records every attempt, each
signed as usual."""

import threading

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from webhooks import sender
from webhooks.events import emit
from webhooks.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db

EVENTS = 40
THREADS = 4


def test_a_sending_run_sends_a_batch_at_once_over_kept_alive_connections(
    receiver, make_endpoint, settings
):
    settings.WEBHOOKS_SENDER_THREADS = THREADS
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=1000)
    # The first THREADS requests each wait until all of them have arrived: only a worker
    # that has them in flight together gets past.
    together = threading.Barrier(THREADS, timeout=5)
    met = []

    def on_request(index):
        if index < THREADS:
            try:
                together.wait()
                met.append(index)
            except threading.BrokenBarrierError:
                pass

    receiver.on_request = on_request
    with transaction.atomic():
        for number in range(EVENTS):
            emit("product.created", {"id": number})

    assert sender.run() == EVENTS

    assert sorted(met) == list(range(THREADS))
    assert Delivery.objects.filter(status="succeeded").count() == EVENTS
    assert DeliveryAttempt.objects.filter(success=True).count() == EVENTS
    assert len(receiver.requests) == EVENTS
    # Kept-alive connections: at most one per sending thread, not one per delivery.
    assert receiver.connections <= THREADS
    for request in receiver.requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)
