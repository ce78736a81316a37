import subprocess
import sys
from collections import Counter

import pytest

from tests.support.waiting import wait_until
from tests.support.worker import subprocess_env
from webhooks.events import emit
from webhooks.models import Delivery, DeliveryAttempt

HAMMER = """
import django, sys
django.setup()
from webhooks import ratelimit
allowed = sum(
    ratelimit.acquire(endpoint_id=999, limit=50, window_seconds=3600).allowed for _ in range(200)
)
print(allowed)
"""


@pytest.mark.django_db
def test_rate_limiter_admits_exactly_the_limit_across_processes():
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER],
            env=subprocess_env(DJANGO_SETTINGS_MODULE="acme.settings"),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    allowed = [int(process.communicate(timeout=60)[0].strip()) for process in processes]
    assert sum(allowed) == 50  # 600 tries from 3 processes, 50 slots in the window
    assert all(count > 0 for count in allowed) or sum(allowed) == 50


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_rate_limit_holds_across_two_worker_processes(start_worker, receiver, make_endpoint):
    start_worker(name="rate-a", concurrency=2)
    start_worker(name="rate-b", concurrency=2)
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=4)

    for number in range(12):
        emit("product.created", {"id": number})

    receiver.wait_for(4)
    # Every delivery either went out or waits for a later window: none dropped, none failed.
    waiting = wait_until(
        lambda: (
            (
                Delivery.objects.filter(status="waiting").count()
                + Delivery.objects.filter(status="succeeded").count()
                == 12
            )
            and Delivery.objects.filter(status="waiting").count()
        ),
        what="deliveries did not settle",
    )
    sent = Delivery.objects.filter(status="succeeded").count()
    assert sent + waiting == 12
    assert len(receiver.requests) == sent
    # At most `rate_limit` attempts in any one minute window (two processes, four pool workers).
    per_window = Counter(
        int(at.timestamp() // 60)
        for at in DeliveryAttempt.objects.filter(endpoint=endpoint).values_list(
            "attempted_at", flat=True
        )
    )
    assert max(per_window.values()) <= 4
    assert not Delivery.objects.filter(status="failed").exists()
