"""A rate-limited backlog's drain reads the endpoint again before each delivery: a change
made while it runs (the secret rotated now, the URL changed, the endpoint disabled or deleted)
applies from the next delivery on, never the settings the drain started with."""

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks import drain, services
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

BACKLOG = 4


def waiting_backlog(endpoint) -> list[int]:
    """BACKLOG deliveries waiting for the endpoint's drain, as the rate limit leaves them."""
    ids = []
    for number in range(BACKLOG):
        delivery = Delivery.objects.create(
            endpoint=endpoint,
            event_type="product.created",
            payload={"type": "product.created", "timestamp": "x", "data": {"id": number}},
            msg_id=f"msg_{number}",
            status=Delivery.Status.WAITING,
            claimed_at=timezone.now(),
        )
        ids.append(delivery.id)
    return ids


def after_first_request(receiver, change):
    """Make `change` while the drain waits for the answer to its first delivery."""

    def on_request(index):
        if index == 0:
            try:
                change()
            finally:
                connection.close()  # this is the receiver's thread

    receiver.on_request = on_request


@pytest.fixture
def endpoint(receiver, make_endpoint):
    return make_endpoint(receiver.url("/old"), events=["product.created"], rate_limit=100)


def test_a_secret_rotated_now_signs_the_next_deliveries(receiver, endpoint):
    waiting_backlog(endpoint)
    old_secret = endpoint.secret
    after_first_request(
        receiver,
        lambda: services.endpoint_rotate_secret(
            endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk), overlap_hours=0
        ),
    )
    assert drain.drain(endpoint.pk) is None
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret

    first, *later = receiver.requests
    Webhook(old_secret).verify(first.body, first.headers)
    assert len(later) == BACKLOG - 1
    for request in later:
        Webhook(endpoint.secret).verify(request.body, request.headers)
        with pytest.raises(WebhookVerificationError):
            # Only the new signature: the old secret stopped at once.
            Webhook(old_secret).verify(request.body, request.headers)


def test_a_changed_url_receives_the_next_deliveries(receiver, endpoint):
    waiting_backlog(endpoint)
    after_first_request(
        receiver,
        lambda: services.endpoint_update(
            endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk), url=receiver.url("/new")
        ),
    )
    drain.drain(endpoint.pk)
    assert [r.path for r in receiver.requests] == ["/old"] + ["/new"] * (BACKLOG - 1)


def test_disabling_fails_the_rest_instead_of_sending_it(receiver, endpoint):
    ids = waiting_backlog(endpoint)
    after_first_request(
        receiver,
        lambda: services.endpoint_set_enabled(
            endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk), enabled=False
        ),
    )
    assert drain.drain(endpoint.pk) is None
    assert len(receiver.requests) == 1
    rest = Delivery.objects.filter(pk__in=ids[1:])
    assert {(d.status, d.last_error) for d in rest} == {
        (Delivery.Status.FAILED, "Endpoint is disabled")
    }


def test_deleting_ends_the_drain(receiver, endpoint):
    waiting_backlog(endpoint)
    after_first_request(
        receiver,
        lambda: services.endpoint_delete(endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk)),
    )
    assert drain.drain(endpoint.pk) is None
    assert len(receiver.requests) == 1
    assert not Delivery.objects.exists()
