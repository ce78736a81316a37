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
