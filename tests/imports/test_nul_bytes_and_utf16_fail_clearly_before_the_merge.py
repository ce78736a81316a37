"""Bytes PostgreSQL text cannot store never reach the merge: a NUL in a header cell, a UTF-16
file without a byte order mark that detection does not identify, or read as an 8-bit
encoding the user chose (it is then full of NULs), and a UTF-32 file fail the job with a
message naming the problem, the catalogue unchanged and the job's outcome recorded at once
(not "worker lost" a minute later). A UTF-16 file with a byte order mark is transcoded and
imported. A NUL in a data cell rejects that record only, and everything the job records is
stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports import services
from imports.models import ImportJob
from products.models import Product
from tests.imports.jobs import wait_for_job
from webhooks.models import Delivery, EventType, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CSV = "sku,name,description\nA-1,Lamp,Warm light\nA-2,Chair,Oak\n"


@pytest.fixture(autouse=True)
def endpoint(db):
    return WebhookEndpoint.objects.create(
        url="https://example.invalid/hook", events=list(EventType.values), enabled=True
    )


def _import(data: bytes, **options) -> ImportJob:
    upload = SimpleUploadedFile("products.csv", data, "text/csv")
    job = services.import_job_create(uploaded_file=upload, options=options)
    return wait_for_job(job.pk, timeout=60)


# UTF-16 without a byte order mark whose NULs detection cannot place: a record of NULs
# in an otherwise unreadable UTF-16 text (odd length).
UNIDENTIFIED_UTF16 = b"s\x00k\x00u\x00,\x00\x00\x00\x00n\x00a\x00m\x00e\x00\n"


@pytest.mark.parametrize(
    "data, options, says",
    [
        (b"sku,name,desc\x00ription\nA-1,Lamp,Warm light\n", {}, "column 3 holds NUL bytes"),
        (CSV.encode("utf-16-le"), {"encoding": "utf-8"},
         "UTF-16 or UTF-32 without a byte order mark"),
        (UNIDENTIFIED_UTF16, {}, "UTF-16 or UTF-32 without a byte order mark"),
        (CSV.encode("utf-16"), {"encoding": "cp1252"}, "the file is UTF-16"),
        (CSV.encode("utf-32"), {}, "the file is UTF-32"),
    ],
    ids=["nul-in-header", "utf-16-read-as-utf-8", "utf-16-not-identified",
         "utf-16-read-as-cp1252", "utf-32-with-bom"],
)  # fmt: skip
def test_a_file_the_database_cannot_store_fails_before_the_merge(
    celery_worker, data, options, says
):
    job = _import(data, **options)

    assert job.status == ImportJob.Status.FAILED
    assert says in job.error
    assert "save it as UTF-8" in job.error
    assert not Product.objects.exists()
    assert list(Delivery.objects.values_list("event_type", flat=True)) == ["import.failed"]


def test_a_utf16_file_with_a_byte_order_mark_is_imported_and_records_its_encoding(
    celery_worker,
):
    job = _import(CSV.replace("Oak", "Chêne").encode("utf-16"))

    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.encoding, job.delimiter, job.created) == ("utf-16", ",", 2)
    assert Product.objects.get(sku="A-2").description == "Chêne"
    assert list(Delivery.objects.values_list("event_type", flat=True)) == ["import.completed"]


def test_a_nul_in_a_data_cell_rejects_that_record_and_the_job_is_recorded(celery_worker):
    data = b"sku,name,description,extra\x01column\nA-1,Lamp,Warm\x00light,x\nA-2,Chair,Oak,y\n"

    job = _import(data)

    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.rows_read, job.rows_rejected, job.created) == (2, 1, 1)
    assert job.unknown_columns == ["extra\x01column"]
    report = job.error_report.open("rb").read().decode("utf-8")
    assert "description contains the control character U+0000" in report
    assert list(Product.objects.values_list("sku", flat=True)) == ["A-2"]
    assert list(Delivery.objects.values_list("event_type", flat=True)) == ["import.completed"]
