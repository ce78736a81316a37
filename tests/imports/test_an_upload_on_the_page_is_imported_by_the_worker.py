import pytest
from django.urls import reverse

from imports.models import ImportJob
from products.models import Product
from tests.imports.jobs import SAMPLE_PRODUCTS, wait_for_job

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_an_upload_on_the_page_is_imported_by_the_worker(
    celery_worker, staff_client, staff_user, sample_upload
):
    response = staff_client.post(
        reverse("imports:new"),
        {"file": sample_upload, "encoding": "utf-8", "delimiter": ","},
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    # (Queued when the page answered; the worker may have claimed it since, so not checked.)
    assert job.created_by == staff_user
    assert job.original_name == "products-sample.csv"
    assert job.file.name.startswith("imports/uploads/")

    job = wait_for_job(job.pk)
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.rows_read, job.rows_rejected, job.created) == (2000, 0, SAMPLE_PRODUCTS)
    assert Product.objects.count() == SAMPLE_PRODUCTS
    assert set(job.durations) == {"parsing", "validating", "loading", "merging"}

    page = staff_client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    expected = f"Import complete: {SAMPLE_PRODUCTS:,} created, 0 updated, 0 unchanged, 0 rejected"
    assert expected in page


def test_the_page_answers_an_xhr_upload_with_the_job_links(
    celery_worker, staff_client, sample_upload
):
    response = staff_client.post(
        reverse("imports:new"),
        {"file": sample_upload, "encoding": "utf-8", "delimiter": "tab", "validate_only": "on"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 201
    body = response.json()
    job = wait_for_job(body["id"])
    assert body["progress_url"] == f"/imports/{job.pk}/progress"
    assert job.delimiter == "\t" and job.validate_only
    # A tab-delimited reading of a comma file finds no sku column: a clear failure.
    assert job.status == ImportJob.Status.FAILED
    assert "sku" in job.error
    assert Product.objects.count() == 0
