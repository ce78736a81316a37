import pytest

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_a_slow_receiver_times_out_and_is_retried_later(receiver, make_endpoint, settings):
    settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS = 0.5
    receiver.script(Reply(status=200, delay=2))
    make_endpoint(receiver.url(), events=["import.completed"])
    emit("import.completed", {"id": 1, "rows_imported": 10})
    delivery = Delivery.objects.get()

    delivery_module.send(delivery.id)

    delivery.refresh_from_db()
    (attempt,) = delivery.attempts.all()
    assert attempt.error == "Timed out"
    assert attempt.status_code is None
    assert attempt.duration_ms < 1900  # gave up before the receiver answered
    assert delivery.status == Delivery.Status.QUEUED  # retried on the schedule
    assert delivery.retries == 1
    assert len(receiver.requests) == 1
