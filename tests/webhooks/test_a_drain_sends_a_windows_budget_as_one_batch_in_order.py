"""A rate-limited backlog's drain takes a window's slots and the oldest waiting deliveries a
batch at a time (one rate-limit call, one claim, one recording transaction per batch), then
sends them one after the other, in order: per delivery only its endpoint is read again."""

import json

import pytest
from django.utils import timezone

from webhooks import drain, ratelimit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

BACKLOG = 12


def _waiting(endpoint, count: int) -> None:
    for number in range(count):
        Delivery.objects.create(
            endpoint=endpoint,
            event_type="product.created",
            payload={"type": "product.created", "timestamp": "x", "data": {"id": number}},
            msg_id=f"msg_{number}",
            status=Delivery.Status.WAITING,
            claimed_at=timezone.now(),
        )


def test_a_drain_sends_a_windows_budget_as_one_batch_in_order(
    receiver, make_endpoint, settings, django_assert_max_num_queries
):
    settings.WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS = 3600
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=5)
    _waiting(endpoint, BACKLOG)

    # Before: a read, a claim and a recording transaction of ~6 statements per delivery.
    with django_assert_max_num_queries(2 * 5 + 15):
        wait = drain.drain(endpoint.pk)

    assert wait is not None and wait > 0  # the window is spent: the next run waits for it
    assert [json.loads(r.body)["data"]["id"] for r in receiver.requests] == [0, 1, 2, 3, 4]
    statuses = list(Delivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["succeeded"] * 5 + ["waiting"] * (BACKLOG - 5)
    assert not ratelimit.acquire(endpoint_id=endpoint.pk, limit=5).allowed


def test_slots_a_batch_did_not_need_are_given_back(receiver, make_endpoint, settings):
    settings.WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS = 3600
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=100)
    _waiting(endpoint, 3)

    assert drain.drain(endpoint.pk) is None  # nothing left: the drain ends

    assert len(receiver.requests) == 3
    # 3 slots used of 100: the batch asked for more and gave the rest back.
    assert ratelimit.acquire(endpoint_id=endpoint.pk, limit=100, wanted=1000).granted == 97
