import pytest
from standardwebhooks.webhooks import Webhook

from tests.support.waiting import wait_until
from tests.webhooks.conftest import Reply
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_retry_after_500_succeeds_with_the_same_webhook_id(celery_worker, receiver, make_endpoint):
    receiver.script(Reply(status=500), Reply(status=200))
    endpoint = make_endpoint(receiver.url(), events=["product.updated"])

    emit("product.updated", {"id": 1})

    # The first retry is due ~5 s later (schedule 5 s, 5 min, 30 min, ... with jitter).
    first, second = receiver.wait_for(2, timeout=30)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    Webhook(endpoint.secret).verify(second.body, second.headers)
    delivery = wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).first(),
        what="delivery never succeeded",
    )
    attempts = list(delivery.attempts.order_by("attempted_at"))
    assert [a.status_code for a in attempts] == [500, 200]
    assert attempts[0].error == "HTTP 500" and not attempts[0].success
    assert attempts[1].success and attempts[1].duration_ms is not None
    gap = (attempts[1].attempted_at - attempts[0].attempted_at).total_seconds()
    assert 4 <= gap < 60  # waited for the schedule, not sent again at once
