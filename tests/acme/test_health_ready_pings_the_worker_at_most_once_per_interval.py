"""A burst of readiness probes costs one Celery broadcast (asking the workers which queues
they consume): the worker check's answer is cached for HEALTH_WORKER_PING_CACHE_SECONDS (the
broadcast waits up to a second for replies)."""

import base64
import json

import pytest

from acme.lib.redis_client import get_redis
from tests.support.waiting import wait_until

PROBES = 20


def _is_worker_check(data: str | bytes) -> bool:
    """Kombu sends the broadcast as a JSON envelope whose body is base64-encoded JSON."""
    envelope = json.loads(data)
    body = envelope["body"]
    if envelope.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    return json.loads(body).get("method") == "active_queues"


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_probes_sends_one_ping(client, celery_worker):
    # The broadcast travels over Redis pub/sub (kombu's fanout): listen to it as the worker does.
    pubsub = get_redis().pubsub()
    pubsub.psubscribe("*pidbox*")
    wait_until(lambda: pubsub.get_message(timeout=1), what="subscribed to the pidbox channel")

    statuses = [client.get("/health/ready").status_code for _ in range(PROBES)]

    broadcasts = []
    while (message := pubsub.get_message(timeout=1.5)) is not None:
        if message["type"] == "pmessage":
            broadcasts.append(message["data"])
    pubsub.close()
    assert statuses == [200] * PROBES
    assert sum(_is_worker_check(data) for data in broadcasts) == 1, broadcasts
