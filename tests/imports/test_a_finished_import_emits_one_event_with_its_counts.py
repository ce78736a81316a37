"""Each finished import sends one `import.completed` or `import.failed` event (never one per
product), recorded as webhook Delivery rows in the transaction that records the outcome."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from tests.imports.jobs import SAMPLE_PRODUCTS
from tests.support.sample import SAMPLE_CSV
from webhooks.models import Delivery, EventType, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def endpoint():
    # Subscribed to everything, so a per-product event would show up too.
    return WebhookEndpoint.objects.create(url="https://example.invalid/hook",
                                          events=list(EventType.values))  # fmt: skip


def test_a_completed_import_emits_one_completed_event_with_its_counts():
    call_command("import_products", str(SAMPLE_CSV), stdout=StringIO(), stderr=StringIO())

    job = ImportJob.objects.get()
    delivery = Delivery.objects.get()  # one, and no product.* events
    assert delivery.event_type == "import.completed"
    data = delivery.payload["data"]
    assert data["id"] == job.pk
    assert data["status"] == "completed"
    assert (data["rows_read"], data["rows_rejected"]) == (2000, 0)
    assert (data["created"], data["updated"], data["unchanged"]) == (SAMPLE_PRODUCTS, 0, 0)


def test_a_failed_import_emits_one_failed_event_with_the_reason(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")

    with pytest.raises(CommandError):
        call_command("import_products", str(path), stdout=StringIO(), stderr=StringIO())

    delivery = Delivery.objects.get()
    assert delivery.event_type == "import.failed"
    assert delivery.payload["data"]["error"] == ImportJob.objects.get().error


def test_a_lost_job_emits_one_failed_event_however_often_the_check_runs():
    stale = timezone.now() - timedelta(minutes=5)
    job = ImportJob.objects.create(original_name="lost.csv", size=1, status="running",
                                   attempts=1, started_at=stale, heartbeat_at=stale)  # fmt: skip

    assert services.import_jobs_fail_lost(timeout_seconds=60) == [job.pk]
    assert services.import_jobs_fail_lost(timeout_seconds=60) == []

    delivery = Delivery.objects.get()
    assert delivery.event_type == "import.failed"
    assert delivery.payload["data"]["error"].startswith("worker lost")


def test_a_cancelled_import_emits_nothing():
    job = ImportJob.objects.create(original_name="queued.csv", size=1)

    services.import_job_cancel(job=job)

    assert not Delivery.objects.exists()
