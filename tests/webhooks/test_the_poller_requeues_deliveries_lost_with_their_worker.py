from datetime import timedelta

import pytest
from django.utils import timezone

from acme.celery import app
from webhooks import poller
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_the_poller_requeues_deliveries_lost_with_their_worker(
    make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    emit("product.created", {"id": 1})
    emit("product.created", {"id": 2})
    lost, fresh = Delivery.objects.order_by("id")
    long_ago = timezone.now() - timedelta(hours=1)
    # A worker claimed `lost` an hour ago and died mid-request; `fresh` is being sent now.
    Delivery.objects.filter(pk=lost.pk).update(status="sending", claimed_at=long_ago)
    Delivery.objects.filter(pk=fresh.pk).update(status="sending", claimed_at=timezone.now())

    with django_capture_on_commit_callbacks() as callbacks:
        assert poller.recover_stale() == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == Delivery.Status.QUEUED
    assert fresh.status == Delivery.Status.SENDING
    assert len(callbacks) == 1


def test_the_beat_task_exists_under_the_scheduled_name(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "webhooks.tasks.send_due_deliveries" in scheduled
    app.loader.import_default_modules()
    assert "webhooks.tasks.send_due_deliveries" in app.tasks
