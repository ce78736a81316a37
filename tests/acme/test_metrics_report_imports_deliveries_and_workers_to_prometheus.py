"""GET /metrics: Prometheus text read at scrape time from PostgreSQL and Redis, so it is right
whichever process did the work (here: a real Celery worker sends the deliveries); allowed for
staff and for the METRICS_TOKEN bearer, refused to everyone else."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.authtoken.models import Token

from imports.models import ImportJob
from tests.support.waiting import wait_until
from tests.webhooks.conftest import Reply, receiver  # noqa: F401 - the fixture
from webhooks.events import emit
from webhooks.models import Delivery, EventType, WebhookEndpoint
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def make_job(status, **fields) -> ImportJob:
    return ImportJob.objects.create(original_name="p.csv", size=10, status=status, **fields)


def test_metrics_count_imports_deliveries_and_worker_heartbeats(
    celery_worker,
    receiver,  # noqa: F811 - the fixture imported above
    staff_client,
    settings,
):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    now = timezone.now()
    make_job("completed", rows_read=10, created=6, updated=3, unchanged=1,
             started_at=now - timedelta(seconds=42), finished_at=now)  # fmt: skip
    make_job("failed", rows_read=5, rows_rejected=5, started_at=now, finished_at=now)
    queued = make_job("queued")
    ImportJob.objects.filter(pk=queued.pk).update(created_at=now - timedelta(minutes=10))

    receiver.script(Reply(status=200), Reply(status=404))
    endpoint = endpoint_create(url=receiver.url(), events=["product.created"])
    emit("product.created", {"id": 1})
    receiver.wait_for(1)
    emit("product.created", {"id": 2})
    receiver.wait_for(2)
    # A delivery waiting for a retry for an hour.
    Delivery.objects.create(
        endpoint=endpoint,
        event_type=EventType.PRODUCT_CREATED,
        payload={"type": "product.created", "timestamp": now.isoformat(), "data": {}},
        msg_id="msg_waiting",
        status="pending",
        next_attempt_at=now + timedelta(hours=1),
        created_at=now - timedelta(hours=1),
    )
    Delivery.objects.filter(msg_id="msg_waiting").update(created_at=now - timedelta(hours=1))

    def settled():
        samples = scrape(staff_client)
        done = value(samples, "acme_webhook_deliveries_finished_total", status="failed")
        return samples if done == 1 else None

    samples = wait_until(settled, what="the worker's deliveries in the metrics")
    assert value(samples, "acme_webhook_deliveries_finished_total", status="succeeded") == 1
    assert value(samples, "acme_webhook_delivery_latency_seconds_count") == 2
    assert value(samples, "acme_webhook_delivery_latency_seconds_bucket", le="+Inf") == 2
    assert value(samples, "acme_webhook_deliveries_waiting", status="pending") == 1
    assert value(samples, "acme_webhook_oldest_waiting_delivery_age_seconds") >= 3600

    assert value(samples, "acme_import_jobs", status="completed") == 1
    assert value(samples, "acme_import_jobs", status="failed") == 1
    assert value(samples, "acme_import_jobs", status="queued") == 1
    assert value(samples, "acme_import_jobs", status="cancelled") == 0
    assert value(samples, "acme_import_rows_total", outcome="created") == 6
    assert value(samples, "acme_import_rows_total", outcome="rejected") == 5
    assert value(samples, "acme_import_duration_seconds_count") == 1
    assert 41 <= value(samples, "acme_import_duration_seconds_sum") <= 43
    assert value(samples, "acme_import_duration_seconds_bucket", le="30.0") == 0
    assert value(samples, "acme_import_duration_seconds_bucket", le="60.0") == 1
    assert value(samples, "acme_oldest_queued_import_age_seconds") >= 600

    hostname = celery_worker.name.replace("%h", "")
    heartbeats = wait_until(
        lambda: (
            {
                labels: age
                for (name, labels), age in scrape(staff_client).items()
                if name == "acme_worker_heartbeat_age_seconds"
                and hostname in dict(labels)["worker"]
            }
            or None
        ),
        what="the worker's heartbeat in the metrics",
    )
    assert all(0 <= age < 60 for age in heartbeats.values())
    assert WebhookEndpoint.objects.count() == 1


def test_metrics_need_staff_or_the_metrics_token(client, staff_user, viewer_user, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code in (401, 403)
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code in (401, 403)

    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code in (401, 403)
    scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")

    token = Token.objects.create(user=staff_user)
    scrape(client, HTTP_AUTHORIZATION=f"Token {token.key}")
    viewer_token = Token.objects.create(user=viewer_user)
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Token {viewer_token.key}")
    assert answer.status_code == 403

    client.force_login(viewer_user)
    assert client.get("/metrics").status_code == 403
    client.force_login(staff_user)
    scrape(client)
