import pytest

from tests.support.waiting import wait_until
from tests.webhooks.conftest import Reply
from webhooks.events import emit
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_410_gone_disables_the_endpoint(celery_worker, receiver, make_endpoint):
    receiver.script(Reply(status=410))
    endpoint = make_endpoint(receiver.url(), events=["product.deleted"])

    emit("product.deleted", {"id": 3})

    receiver.wait_for(1)
    endpoint = wait_until(
        lambda: WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=False).first(),
        what="endpoint still enabled",
    )
    assert "410 Gone" in endpoint.disabled_reason
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_status_code == 410
    # Disabled endpoints get no new deliveries.
    emit("product.deleted", {"id": 4})
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1
