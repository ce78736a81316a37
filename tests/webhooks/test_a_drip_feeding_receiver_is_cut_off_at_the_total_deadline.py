"""WEBHOOKS_TOTAL_TIMEOUT_SECONDS bounds a whole attempt, not each socket read: a receiver
that drips its answer a byte at a time is cut off at the deadline, and the delivery is
recorded as timed out and retried later."""

import pytest

from tests.support.waiting import wait_until
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_drip_feeding_receiver_is_cut_off_at_the_total_deadline(
    phase, drip_receiver, make_endpoint, settings
):
    # Each byte comes well inside the deadline; the whole answer would take 15 s.
    settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS = 1
    receiver = drip_receiver(phase=phase, every=0.25, seconds=15)
    make_endpoint(receiver.url(), events=["import.completed"])
    emit("import.completed", {"id": 1, "rows_imported": 10})
    delivery = Delivery.objects.get()

    delivery_module.send(delivery.id)

    delivery.refresh_from_db()
    (attempt,) = delivery.attempts.all()
    assert attempt.error == "Timed out"
    assert attempt.status_code is None
    assert delivery.status == Delivery.Status.QUEUED  # retried on the schedule
    assert delivery.retries == 1
    # We hung up while the receiver was still dripping its answer.
    wait_until(lambda: receiver.hung_up_early, what="the receiver to notice the hang-up")
    assert receiver.completed == 0
