from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks import poller
from webhooks.events import emit
from webhooks.models import Delivery
from webhooks.recording import RETRY_SCHEDULE_SECONDS

pytestmark = pytest.mark.django_db


def _send_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.QUEUED, next_attempt_at=timezone.now()
    )
    delivery_module.send(delivery.pk)
    delivery.refresh_from_db()


def test_long_retry_waits_live_in_postgres_until_the_poller_queues_them(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    receiver.script(Reply(status=503))
    make_endpoint(receiver.url(), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()

    _send_now(delivery)  # 1st failure: 5 s, a short countdown
    assert delivery.status == Delivery.Status.QUEUED
    _send_now(delivery)  # 2nd failure: ~5 min, kept in PostgreSQL for the poller
    assert delivery.status == Delivery.Status.PENDING
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 4 * 60 < wait < 6 * 60

    assert poller.dispatch_due() == 0  # not due yet
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert poller.dispatch_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED
    assert len(callbacks) == 1


def test_retry_after_header_is_honoured(receiver, make_endpoint):
    receiver.script(Reply(status=429, headers={"retry-after": "900"}))
    make_endpoint(receiver.url(), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()

    _send_now(delivery)

    assert delivery.status == Delivery.Status.PENDING
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 890 < wait <= 900


def test_the_delivery_fails_when_the_schedule_is_exhausted(receiver, make_endpoint):
    receiver.script(Reply(status=500))
    make_endpoint(receiver.url(), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(retries=len(RETRY_SCHEDULE_SECONDS))

    _send_now(delivery)

    assert delivery.status == Delivery.Status.FAILED
    assert delivery.completed_at is not None
