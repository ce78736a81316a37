import pytest

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_client_errors_fail_without_retry_and_repeated_failures_disable(
    receiver, make_endpoint, settings
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    receiver.script(Reply(status=400))
    endpoint = make_endpoint(receiver.url(), events=["product.created"])

    for number in range(3):
        emit("product.created", {"id": number})
        delivery_module.send(Delivery.objects.latest("id").id)
        endpoint.refresh_from_db()
        if number < 2:
            assert endpoint.enabled and endpoint.consecutive_failures == number + 1

    assert len(receiver.requests) == 3  # one attempt each: a 400 is not retried
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    assert not endpoint.enabled
    assert "3 failed deliveries in a row" in endpoint.disabled_reason
    assert "HTTP 400" in endpoint.disabled_reason


def test_a_success_resets_the_failure_count(receiver, make_endpoint):
    receiver.script(Reply(status=400), Reply(status=204))
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    for number in range(2):
        emit("product.created", {"id": number})
        delivery_module.send(Delivery.objects.latest("id").id)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
