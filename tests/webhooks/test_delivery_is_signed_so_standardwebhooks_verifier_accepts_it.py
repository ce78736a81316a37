import json

import pytest
from standardwebhooks.webhooks import Webhook

from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_delivery_is_signed_so_standardwebhooks_verifier_accepts_it(
    celery_worker, receiver, make_endpoint
):
    endpoint = make_endpoint(receiver.url(), events=["product.created"])

    emit("product.created", {"id": 7, "sku": "SKU-7", "name": "Lamp"})

    (request,) = receiver.wait_for(1)
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "product.created"
    assert payload["data"] == {"id": 7, "sku": "SKU-7", "name": "Lamp"}
    assert "timestamp" in payload
    assert request.headers["content-type"] == "application/json"
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert request.headers["webhook-id"] == delivery.msg_id
    # A different secret must not verify: the signature really depends on it.
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "QUJD" * 8).verify(request.body, request.headers)
    assert json.loads(request.body) == payload
