import pytest
from django.contrib.auth.models import User

from webhooks.events import emit
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, allow_private):
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def test_admin_manages_endpoints_and_deliveries(admin_client, settings):
    response = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "http://127.0.0.1:9/hook", "events": ["product.created"], "rate_limit": 30,
         "enabled": "on", "description": "from admin"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.rate_limit == 30

    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()
    assert admin_client.get("/admin/webhooks/webhookendpoint/").status_code == 200
    page = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.secret in page.content.decode()
    assert admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").status_code == 200

    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    refused = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "http://10.0.0.1/", "events": ["product.created"], "rate_limit": 30},
    )
    assert refused.status_code == 200
    assert "private address" in refused.content.decode()
    assert WebhookEndpoint.objects.count() == 1


def test_an_endpoints_delete_confirmation_counts_its_deliveries_which_go_only_with_it(
    admin_client, receiver
):
    from webhooks.services import endpoint_create

    endpoint = endpoint_create(url=receiver.url(), events=["product.created"])
    for number in range(3):
        emit("product.created", {"id": number})

    # The confirmation says how many deliveries go with the endpoint instead of listing each
    # (an endpoint's log can hold millions) or asking for a permission deliveries never give.
    page = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/delete/")
    assert page.status_code == 200
    assert "Deliveries: 3" in page.content.decode()
    assert (
        admin_client.post(
            f"/admin/webhooks/webhookendpoint/{endpoint.pk}/delete/", {"post": "yes"}
        ).status_code
        == 302
    )
    assert not Delivery.objects.exists()

    # A delivery is never deleted on its own, even by a superuser.
    endpoint = endpoint_create(url=receiver.url(), events=["product.created"])
    emit("product.created", {"id": 9})
    delivery = Delivery.objects.get()
    assert admin_client.get(f"/admin/webhooks/delivery/{delivery.pk}/delete/").status_code == 403
