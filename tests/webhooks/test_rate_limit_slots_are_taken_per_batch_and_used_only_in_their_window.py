"""A worker takes an endpoint's rate-limit slots for a whole batch in one call, never more
than the window has left; the oldest deliveries get them, the rest wait for the endpoint's
drain; and a slot is only used in the window that granted it."""

import time

import pytest

from webhooks import claims, ratelimit
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_a_batch_takes_only_the_slots_the_window_has_left():
    taken = [
        ratelimit.acquire(endpoint_id=998, limit=5, wanted=3, window_seconds=3600) for _ in range(3)
    ]
    assert [decision.granted for decision in taken] == [3, 2, 0]
    assert taken[-1].count == 5
    assert [decision.allowed for decision in taken] == [True, True, False]


def test_the_oldest_of_a_claimed_batch_get_the_slots_and_the_rest_wait(
    receiver, make_endpoint, settings
):
    settings.WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS = 3600
    make_endpoint(receiver.url(), events=["product.created"], rate_limit=3)
    for number in range(5):
        emit("product.created", {"id": number})

    ready = claims.claim_due(10)

    assert [delivery.payload["data"]["id"] for delivery in ready] == [0, 1, 2]
    statuses = dict(Delivery.objects.values_list("payload__data__id", "status"))
    assert statuses == {0: "sending", 1: "sending", 2: "sending", 3: "waiting", 4: "waiting"}
    # A later claim joins the backlog, behind the waiting ones.
    emit("product.created", {"id": 5})
    assert claims.claim_due(10) == []
    assert Delivery.objects.get(payload__data__id=5).status == "waiting"


def test_a_slot_is_not_used_after_its_window_ended(receiver, make_endpoint, settings):
    settings.WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS = 1
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=2)
    emit("product.created", {"id": 1})
    emit("product.created", {"id": 2})
    ready = claims.claim_due(10)
    assert len(ready) == 2
    assert not any(claims.slot_expired(delivery) for delivery in ready)

    time.sleep(max(delivery.slot_expires_at for delivery in ready) - time.monotonic() + 0.05)

    assert all(claims.slot_expired(delivery) for delivery in ready)
    again = claims.take_slots(ready)  # slots of the window now open
    assert len(again) == 2
    assert not any(claims.slot_expired(delivery) for delivery in again)
    # That window counted them: no third slot is left in it.
    assert not ratelimit.acquire(endpoint_id=endpoint.id, limit=2).allowed
