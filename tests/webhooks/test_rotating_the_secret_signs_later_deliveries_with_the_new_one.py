import pytest
from django.urls import reverse
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_rotating_the_secret_signs_later_deliveries_with_the_new_one(
    receiver, make_endpoint, staff_client
):
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    old_secret = endpoint.secret
    assert old_secret.startswith("whsec_") and len(Webhook(old_secret)._whsecret) >= 24

    response = staff_client.post(
        reverse("webhooks:rotate-secret", args=[endpoint.pk]), {"overlap_hours": "0"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret

    emit("product.created", {"id": 1})
    delivery_module.send(Delivery.objects.get().id)
    (request,) = receiver.requests
    Webhook(endpoint.secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(request.body, request.headers)
    page = staff_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret in page
