"""Test support for reverts: imports run by the real worker, and the catalogue as rows."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.imports.jobs import wait_for_job
from tests.support.waiting import wait_until


def import_text(text: str, *, name: str = "products.csv", user=None, **options):
    """Import `text` as an uploaded CSV through the real worker; the finished job."""
    from imports import services

    job = services.import_job_create(
        uploaded_file=SimpleUploadedFile(name, text.encode(), "text/csv"),
        options=options,
        user=user,
    )
    return wait_for_job(job.pk)


def catalogue() -> dict[str, tuple]:
    """sku -> (id, name, description, active, created_at, updated_at)."""
    from products.models import Product

    return {
        sku: rest
        for sku, *rest in Product.objects.values_list(
            "sku", "id", "name", "description", "active", "created_at", "updated_at"
        )
    }


def names() -> dict[str, str]:
    from products.models import Product

    return dict(Product.objects.values_list("sku", "name"))


def deliveries_settle(count: int) -> None:
    """Wait until `count` deliveries are sent (a worker writing a delivery attempt while the
    test's database is flushed makes the flush deadlock)."""
    from webhooks.models import Delivery

    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == count,
        timeout=60,
        what="the events' deliveries to be sent",
    )
