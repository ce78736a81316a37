import pytest
from django.urls import reverse

from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_pages_need_webhook_permissions(client, viewer_user):
    endpoint = WebhookEndpoint.objects.create(url="https://93.184.215.14/", events=[])
    client.force_login(viewer_user)
    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_form_explains_a_refused_url(staff_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = staff_client.post(
        reverse("webhooks:new"),
        {"url": "http://169.254.169.254/latest", "events": ["product.created"], "rate_limit": 60},
    )
    assert response.status_code == 200
    assert "169.254.169.254 is a link-local address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
