"""An .xlsx upload is stored, run by the worker from its chosen sheet, and reported with row
numbers; the upload checks and the size limit apply to workbooks as to CSVs."""

import csv
import io
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import ImportJob
from products.models import Product
from tests.support.waiting import wait_until
from tests.support.workbooks import xlsx_bytes

WORKBOOK = xlsx_bytes(
    {
        "Read me": [["How to fill this workbook"]],
        "Feed": [
            ["SKU", "Name", "Description"],
            ["00123", "Kept zeros", "line one\nline two"],
            ["", "No SKU", "x"],
            ["b-2", "Second", "y"],
        ],
    }
)


def xlsx_upload(name: str = "feed.xlsx", data: bytes = WORKBOOK) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "application/octet-stream")


@pytest.fixture
def api(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return client


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_api_imports_the_chosen_sheet_and_reports_rows(celery_worker, api):
    response = api.post(
        "/api/imports/", {"file": xlsx_upload(), "sheet": "Feed"}, format="multipart"
    )

    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    assert response.json()["sheet"] == "Feed"

    def finished():
        data = api.get(f"/api/imports/{job_id}/").json()
        return data if data["status"] in ("completed", "failed", "cancelled") else None

    data = wait_until(finished, timeout=90, what="the import to finish")
    assert data["status"] == "completed", data["error"]
    assert (data["rows_read"], data["created"], data["rows_rejected"]) == (3, 2, 1)
    assert dict(Product.objects.values_list("sku", "description")) == {
        "00123": "line one\nline two",
        "b-2": "y",
    }
    report = api.get(data["error_report_url"])
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0][:3] == ["record", "row", "reason"]
    assert rows[1][:3] == ["2", "3", "sku is empty"]


@pytest.mark.django_db
def test_the_page_takes_a_workbook_and_its_sheet(staff_client):
    response = staff_client.post(
        reverse("imports:new"), {"file": xlsx_upload(), "encoding": "utf-8", "delimiter": ",",
                                 "sheet": "Feed"},
    )  # fmt: skip

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.original_name, job.sheet, job.file_format) == ("feed.xlsx", "Feed", "xlsx")


@pytest.mark.django_db
def test_a_sheet_for_a_csv_is_refused_on_the_page_and_in_the_api(staff_client, api):
    csv_file = SimpleUploadedFile("a.csv", b"sku,name\na,b\n", "text/csv")
    page = staff_client.post(
        reverse("imports:new"), {"file": csv_file, "encoding": "utf-8", "delimiter": ",",
                                 "sheet": "Feed"},
    )  # fmt: skip
    csv_file.seek(0)
    answer = api.post("/api/imports/", {"file": csv_file, "sheet": "Feed"}, format="multipart")

    assert page.status_code == 400
    assert "A sheet applies to Excel workbooks (.xlsx) only" in page.content.decode()
    assert answer.status_code == 400
    assert "A sheet applies to Excel workbooks (.xlsx) only" in answer.json()["sheet"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_false_workbook_is_refused_by_the_page_and_the_api_before_it_is_stored(staff_client, api):
    fake = xlsx_upload("feed.xlsx", b"sku,name\na,b\n")
    page = staff_client.post(reverse("imports:new"), {"file": fake, "encoding": "utf-8",
                                                      "delimiter": ","})  # fmt: skip
    fake.seek(0)
    answer = api.post("/api/imports/", {"file": fake}, format="multipart")

    assert page.status_code == 400
    assert "“feed.xlsx” is not an Excel workbook (.xlsx files are ZIP archives)" in (
        page.content.decode()
    )
    assert answer.status_code == 400
    assert "is not an Excel workbook" in answer.json()["file"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_workbook_over_the_size_limit_is_refused(api, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = len(WORKBOOK) - 1

    response = api.post("/api/imports/", {"file": xlsx_upload()}, format="multipart")

    assert response.status_code == 413
    assert "the upload limit is" in response.json()["file"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_uploading_a_workbook_needs_the_add_permission(viewer_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer_user).key}")

    response = client.post("/api/imports/", {"file": xlsx_upload()}, format="multipart")

    assert response.status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_command_reads_the_sheet_it_is_given(tmp_path):
    path = tmp_path / "feed.xlsx"
    path.write_bytes(WORKBOOK)
    out = StringIO()

    call_command("import_products", str(path), "--sheet", "feed", stdout=out, stderr=StringIO())

    job = ImportJob.objects.get()
    assert (job.status, job.sheet, job.created, job.rows_rejected) == ("completed", "feed", 2, 1)
    with pytest.raises(CommandError, match="no sheet named 'Prices'; its sheets: Read me, Feed"):
        call_command("import_products", str(path), "--sheet", "Prices", stdout=StringIO(),
                     stderr=StringIO())  # fmt: skip
    csv_path = tmp_path / "feed.csv"
    csv_path.write_text("sku,name\na,b\n", encoding="utf-8")
    with pytest.raises(CommandError, match="--sheet applies to Excel workbooks"):
        call_command("import_products", str(csv_path), "--sheet", "x", stdout=StringIO(),
                     stderr=StringIO())  # fmt: skip
