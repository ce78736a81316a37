"""An endpoint (or delivery) deleted between the request reading it and the service locking
it: the request waits for the delete to commit, then answers 404 on the API and the pages
(and the admin skips it with a message), never a 500."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

WAITING_FOR_A_TRANSACTION = """
SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted
"""


def since() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


# (what, method, path(endpoint, delivery), data)
API = [
    ("rotate", "post", lambda e, d: f"/api/webhooks/{e}/rotate-secret/", {}),
    ("disable", "post", lambda e, d: f"/api/webhooks/{e}/disable/", {}),
    ("change", "patch", lambda e, d: f"/api/webhooks/{e}/", {"description": "x"}),
    ("delete", "delete", lambda e, d: f"/api/webhooks/{e}/", None),
    ("test", "post", lambda e, d: f"/api/webhooks/{e}/test/", {}),
    ("recover", "post", lambda e, d: f"/api/webhooks/{e}/recover/", {"since": since()}),
    ("redeliver", "post", lambda e, d: f"/api/webhooks/{e}/deliveries/{d}/redeliver/", {}),
]
PAGES = [
    ("rotate", lambda e, d: reverse("webhooks:rotate-secret", args=[e]), {"overlap_hours": 0}),
    ("disable", lambda e, d: reverse("webhooks:set-enabled", args=[e]), {"enabled": "0"}),
    (
        "edit",
        lambda e, d: reverse("webhooks:edit", args=[e]),
        {"url": "http://127.0.0.1:9/other", "events": ["product.created"], "rate_limit": 60},
    ),
    ("delete", lambda e, d: reverse("webhooks:delete", args=[e]), {}),
    ("test", lambda e, d: reverse("webhooks:test", args=[e]), {}),
    ("recover", lambda e, d: reverse("webhooks:recover", args=[e]), {"since": "2000-01-01T00:00"}),
    ("redeliver", lambda e, d: reverse("webhooks:redeliver", args=[d]), {}),
]
ADMIN_ACTIONS = ["send_test", "rotate_secret", "rotate_secret_now", "recover_last_day"]


@pytest.fixture
def endpoint_and_delivery(make_endpoint):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type="product.created",
        payload={"type": "product.created", "timestamp": "x", "data": {}},
        msg_id="msg_gone",
        status=Delivery.Status.FAILED,
        completed_at=timezone.now(),
    )
    return endpoint.pk, delivery.pk


def answer_while_deleted(user, send):
    """Send the request from another thread while this one deletes every endpoint in an open
    transaction; commit once the request waits for it; return the request's response."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    outcome = {}

    def request():
        try:
            outcome["response"] = send(client)
        finally:
            connection.close()

    with transaction.atomic(), connection.cursor() as cursor:
        WebhookEndpoint.objects.all().delete()
        thread = threading.Thread(target=request)
        thread.start()
        deadline = time.monotonic() + 20
        while thread.is_alive():
            cursor.execute(WAITING_FOR_A_TRANSACTION)
            if cursor.fetchone()[0]:
                break
            assert time.monotonic() < deadline, "the request never waited for the delete"
            time.sleep(0.02)
    thread.join(timeout=30)
    return outcome["response"]


@pytest.mark.parametrize(("what", "method", "path", "data"), API, ids=[a[0] for a in API])
def test_the_api_answers_404(what, method, path, data, endpoint_and_delivery, staff_user):
    url = path(*endpoint_and_delivery)
    response = answer_while_deleted(
        staff_user,
        lambda client: getattr(client, method)(url, data, content_type="application/json"),
    )
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize(("what", "path", "data"), PAGES, ids=[p[0] for p in PAGES])
def test_the_pages_answer_404(what, path, data, endpoint_and_delivery, staff_user):
    if what == "recover":
        data = {
            "since": timezone.localtime(timezone.now() - timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M"
            )
        }
    url = path(*endpoint_and_delivery)
    response = answer_while_deleted(staff_user, lambda client: client.post(url, data))
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_the_admin_actions_skip_it_with_a_message(action, endpoint_and_delivery, admin_user):
    endpoint_id, _ = endpoint_and_delivery
    url = reverse("admin:webhooks_webhookendpoint_changelist")
    form = {"action": action, "_selected_action": [endpoint_id]}
    response = answer_while_deleted(admin_user, lambda client: client.post(url, form))
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("was deleted meanwhile" in m for m in messages), messages


def test_the_admin_redeliver_skips_it_with_a_message(endpoint_and_delivery, admin_user):
    endpoint_id, delivery_id = endpoint_and_delivery
    url = reverse("admin:webhooks_delivery_changelist")
    form = {"action": "redeliver", "_selected_action": [delivery_id]}
    response = answer_while_deleted(admin_user, lambda client: client.post(url, form))
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("was deleted meanwhile" in m for m in messages), messages
