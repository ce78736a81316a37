"""Rotating with an overlap: until it ends every delivery carries a signature by the old and
by the new secret, so a stock Standard Webhooks verifier accepts it with either; afterwards
(or with an overlap of 0) only the new secret verifies."""

from datetime import timedelta

import pytest
import yaml
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def send_one(receiver):
    emit("product.created", {"id": 1})
    delivery_module.send(Delivery.objects.latest("id").id)
    return receiver.requests[-1]


def test_both_secrets_verify_during_the_overlap_and_only_the_new_one_after(
    receiver, make_endpoint, staff_client
):
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    old_secret = endpoint.secret

    response = staff_client.post(
        f"/api/webhooks/{endpoint.pk}/rotate-secret/",
        {"overlap_hours": 24},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    endpoint.refresh_from_db()
    new_secret = endpoint.secret
    assert new_secret != old_secret
    ends = endpoint.previous_secret_expires_at
    assert timedelta(hours=23) < ends - timezone.now() <= timedelta(hours=24)
    assert response.json()["previous_secret_expires_at"] is not None

    request = send_one(receiver)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old_secret).verify(request.body, request.headers)["data"] == {"id": 1}
    assert Webhook(new_secret).verify(request.body, request.headers)["data"] == {"id": 1}

    page = staff_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "previous secret" in page.lower()
    assert timezone.localtime(ends).strftime("%Y-%m-%d %H:%M") in page

    # The overlap ends (as time passes): only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    request = send_one(receiver)
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(request.body, request.headers)


def test_an_overlap_of_zero_replaces_the_secret_at_once(receiver, make_endpoint, staff_client):
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    old_secret = endpoint.secret

    response = staff_client.post(
        reverse("webhooks:rotate-secret", args=[endpoint.pk]), {"overlap_hours": "0"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_expires_at is None

    request = send_one(receiver)
    Webhook(endpoint.secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(request.body, request.headers)


def test_the_page_form_and_the_default_api_call_keep_the_old_secret_for_24_hours(
    receiver, make_endpoint, staff_client
):
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    old_secret = endpoint.secret
    staff_client.post(reverse("webhooks:rotate-secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_expires_at - timezone.now() > timedelta(hours=23)
    request = send_one(receiver)
    Webhook(old_secret).verify(request.body, request.headers)

    # Rotating again during an overlap: the secret just replaced is the one kept.
    second_old = endpoint.secret
    staff_client.post(f"/api/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    request = send_one(receiver)
    Webhook(second_old).verify(request.body, request.headers)
    Webhook(endpoint.secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(request.body, request.headers)


def test_an_overlap_out_of_range_is_refused_with_a_message(make_endpoint, staff_client):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    secret = endpoint.secret
    response = staff_client.post(
        f"/api/webhooks/{endpoint.pk}/rotate-secret/",
        {"overlap_hours": 100000},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "overlap_hours" in response.json()
    page = staff_client.post(
        reverse("webhooks:rotate-secret", args=[endpoint.pk]), {"overlap_hours": "-1"}, follow=True
    )
    assert "hours" in page.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret == secret

    schema = yaml.safe_load(staff_client.get("/api/schema/").content)
    body = schema["paths"]["/api/webhooks/{id}/rotate-secret/"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "overlap_hours" in schema["components"]["schemas"][ref]["properties"]


def test_the_admin_rotates_with_the_default_overlap(admin_client, make_endpoint):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    old_secret = endpoint.secret
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
        follow=True,
    )
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.previous_secret == old_secret
    assert endpoint.previous_secret_expires_at > timezone.now() + timedelta(hours=23)
    change = admin_client.get(
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    ).content.decode()
    assert "Previous secret expires at" in change
