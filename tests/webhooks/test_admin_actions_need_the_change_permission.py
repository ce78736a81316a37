"""The admin's webhook actions (send test, rotate secret, redeliver) change things: a staff
user who may only view webhooks cannot run them through the changelist, one who may change
endpoints can."""

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

VIEW_ONLY = ["view_webhookendpoint", "view_delivery", "view_deliveryattempt"]


def _staff_client(client, codenames: list[str]):
    user = User.objects.create_user("webhook-staff", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="webhooks", codename__in=codenames)
    )
    client.force_login(user)
    return client


@pytest.fixture
def endpoint():
    return WebhookEndpoint.objects.create(url="https://93.184.215.14/hook", events=[])


@pytest.fixture
def finished_delivery(endpoint):
    now = timezone.now()
    return Delivery.objects.create(
        endpoint=endpoint,
        event_type="product.created",
        payload={"type": "product.created", "timestamp": now.isoformat(), "data": {}},
        msg_id="msg_admin_actions",
        status=Delivery.Status.FAILED,
        completed_at=now,
    )


def _run_action(client, changelist: str, action: str, pk: int):
    return client.post(changelist, {"action": action, "_selected_action": [pk], "index": 0})


def test_a_view_only_staff_user_cannot_rotate_a_secret_or_send_a_test(client, endpoint):
    client = _staff_client(client, VIEW_ONLY)
    changelist = "/admin/webhooks/webhookendpoint/"
    assert client.get(changelist).status_code == 200  # the user does see the list
    old_secret = endpoint.secret

    for action in ("rotate_secret", "send_test"):
        _run_action(client, changelist, action, endpoint.pk)

    endpoint.refresh_from_db()
    assert endpoint.secret == old_secret
    assert not Delivery.objects.filter(is_test=True).exists()
    page = client.get(changelist).content.decode()
    assert "rotate_secret" not in page and "send_test" not in page


def test_a_view_only_staff_user_cannot_redeliver(client, finished_delivery):
    client = _staff_client(client, VIEW_ONLY)
    changelist = "/admin/webhooks/delivery/"
    assert client.get(changelist).status_code == 200

    _run_action(client, changelist, "redeliver", finished_delivery.pk)

    finished_delivery.refresh_from_db()
    assert finished_delivery.status == Delivery.Status.FAILED
    assert "redeliver" not in client.get(changelist).content.decode()


def test_a_staff_user_who_may_change_endpoints_runs_the_actions(
    client, endpoint, finished_delivery
):
    client = _staff_client(client, [*VIEW_ONLY, "change_webhookendpoint"])
    old_secret = endpoint.secret

    _run_action(client, "/admin/webhooks/webhookendpoint/", "rotate_secret", endpoint.pk)
    _run_action(client, "/admin/webhooks/webhookendpoint/", "send_test", endpoint.pk)
    _run_action(client, "/admin/webhooks/delivery/", "redeliver", finished_delivery.pk)

    endpoint.refresh_from_db()
    finished_delivery.refresh_from_db()
    assert endpoint.secret != old_secret
    assert Delivery.objects.filter(is_test=True, endpoint=endpoint).count() == 1
    assert finished_delivery.status == Delivery.Status.QUEUED
