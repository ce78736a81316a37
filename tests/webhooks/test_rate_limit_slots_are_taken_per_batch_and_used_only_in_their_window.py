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
    _at_the_start_of_a_window(endpoint.id, window_seconds=1)
    ready = claims.claim_due(10)
    assert len(ready) == 2
    assert not any(claims.slot_expired(delivery) for delivery in ready)

    # Into the next window (the slots expired SLOT_MARGIN_SECONDS before it began).
    window_end = max(delivery.slot_expires_at for delivery in ready) + ratelimit.SLOT_MARGIN_SECONDS
    time.sleep(window_end - time.monotonic() + 0.15)

    assert all(claims.slot_expired(delivery) for delivery in ready)
    again = claims.take_slots(ready)  # slots of the window now open
    assert len(again) == 2
    assert not any(claims.slot_expired(delivery) for delivery in again)
    # That window counted them: no third slot is left in it.
    assert not ratelimit.acquire(endpoint_id=endpoint.id, limit=2).allowed


def _into_the_last_margin_of_a_window(endpoint_id: int, window_seconds: int) -> None:
    """Sleep until Redis' current window ends within half of SLOT_MARGIN_SECONDS."""
    probe = ratelimit.acquire(
        endpoint_id=endpoint_id, limit=0, wanted=0, window_seconds=window_seconds
    )
    time.sleep(max(probe.retry_in - ratelimit.SLOT_MARGIN_SECONDS / 2, 0))


def _at_the_start_of_a_window(endpoint_id: int, window_seconds: int) -> None:
    """Sleep until Redis' next window has begun."""
    probe = ratelimit.acquire(
        endpoint_id=endpoint_id, limit=0, wanted=0, window_seconds=window_seconds
    )
    time.sleep(probe.retry_in + 0.02)


def test_slots_asked_for_so_close_to_a_windows_end_are_the_next_windows():
    # A thread paused between the check and its request (a busy machine) must not carry the
    # request into the next window, whose count would not include it: the slots are taken
    # from the next window, once it has begun.
    _into_the_last_margin_of_a_window(995, window_seconds=1)
    late = ratelimit.acquire(endpoint_id=995, limit=5, wanted=3, window_seconds=1)
    assert (late.granted, late.count) == (3, 3)
    assert late.retry_in > 1 - ratelimit.SLOT_MARGIN_SECONDS  # a window that just began


def test_a_delivery_claimed_in_a_windows_last_margin_goes_out_on_the_next_windows_slot(
    receiver, make_endpoint, settings
):
    settings.WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS = 1
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=5)
    emit("product.created", {"id": 1})
    _into_the_last_margin_of_a_window(endpoint.id, window_seconds=1)

    ready = claims.claim_due(10)

    assert len(ready) == 1 and not claims.slot_expired(ready[0])
    # At least the margin before the window that granted it ends.
    window_end = ready[0].slot_expires_at + ratelimit.SLOT_MARGIN_SECONDS
    assert window_end - time.monotonic() > 1 - ratelimit.SLOT_MARGIN_SECONDS - 0.2
