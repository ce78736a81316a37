import pytest

from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_api_exposes_endpoints_with_a_read_only_secret(staff_client, allow_private):
    response = staff_client.post(
        "/api/webhooks/",
        {
            "url": "http://127.0.0.1:9/hook",
            "events": ["product.created", "import.failed"],
            "rate_limit": 120,
            "secret": "whsec_chosen-by-client",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"id", "url", "description", "events", "enabled", "rate_limit", "secret"}
    assert body["secret"].startswith("whsec_") and body["secret"] != "whsec_chosen-by-client"
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"]
    assert endpoint.events == ["import.failed", "product.created"]

    patched = staff_client.patch(
        f"/api/webhooks/{endpoint.pk}/",
        {"enabled": False, "secret": "whsec_other"},
        content_type="application/json",
    )
    assert patched.status_code == 200
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.secret == body["secret"]

    listed = staff_client.get("/api/webhooks/").json()
    assert listed["results"][0]["id"] == endpoint.pk


def test_api_refuses_private_targets_and_unknown_events(staff_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = staff_client.post(
        "/api/webhooks/",
        {"url": "http://169.254.169.254/", "events": ["product.exploded"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert "public addresses" in errors["url"][0]
    assert "events" in errors
    assert not WebhookEndpoint.objects.exists()


def test_api_needs_permissions(client, viewer_user):
    client.force_login(viewer_user)
    assert client.get("/api/webhooks/").status_code == 403
