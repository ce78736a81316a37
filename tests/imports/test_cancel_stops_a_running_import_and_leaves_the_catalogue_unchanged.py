import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services
from imports.models import ImportJob
from products.models import Product
from tests.imports.jobs import wait_for_job, wait_until_reading

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_cancel_stops_a_running_import_and_leaves_the_catalogue_unchanged(
    celery_worker, staff_client, staff_user, big_csv
):
    Product.objects.create(sku="big-7", name="Kept as it was")
    upload = SimpleUploadedFile("big.csv", big_csv.read_bytes(), "text/csv")
    job = services.import_job_create(uploaded_file=upload, options={}, user=staff_user)
    wait_until_reading(job.pk)

    response = staff_client.post(reverse("imports:cancel", args=[job.pk]))

    assert response.status_code == 302
    job = wait_for_job(job.pk)
    assert job.status == ImportJob.Status.CANCELLED
    assert "catalogue is unchanged" in job.error
    assert list(Product.objects.values_list("sku", "name")) == [("big-7", "Kept as it was")]


def test_a_queued_import_is_cancelled_before_it_starts(staff_client):
    # A job no worker has taken yet (its message would find it cancelled and skip it).
    job = ImportJob.objects.create(original_name="waiting.csv", size=10)

    staff_client.post(reverse("imports:cancel", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert services.import_job_claim(job_id=job.pk) is None


def test_a_finished_import_cannot_be_cancelled(staff_client):
    job = ImportJob.objects.create(original_name="done.csv", size=10, status="completed")

    response = staff_client.post(
        reverse("imports:cancel", args=[job.pk]), headers={"Accept": "application/json"}
    )

    assert response.status_code == 409
    assert "already completed" in response.json()["message"]
