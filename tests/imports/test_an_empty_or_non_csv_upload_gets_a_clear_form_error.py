import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportJob


def post(client, name: str, content: bytes):
    upload = SimpleUploadedFile(name, content, "application/octet-stream")
    return client.post(reverse("imports:new"), {"file": upload, "encoding": "utf-8",
                                                 "delimiter": ","})  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "“empty.csv” is empty. Choose a CSV file or an .xlsx workbook"),
        ("catalogue.xls", b"\xd0\xcf\x11\xe0rest", "(an .xls workbook: save it as .xlsx)"),
        ("catalogue.pdf", b"%PDF-1.7", "“catalogue.pdf” is not a CSV file or an Excel workbook"),
        ("catalogue.xlsx", b"sku,name\na,b\n", "“catalogue.xlsx” is not an Excel workbook"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0rest", "looks like an old Excel workbook, not an"),
        ("catalogue.csv", b"PK\x03\x04rest", "looks like a ZIP archive or an Excel"),
        ("manual.csv", b"%PDF-1.7", "looks like a PDF document"),
    ],
)
def test_an_empty_or_non_csv_upload_gets_a_clear_form_error(staff_client, name, content, message):
    response = post(staff_client, name, content)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_no_file_at_all_is_a_form_error_too(staff_client):
    response = staff_client.post(reverse("imports:new"), {"encoding": "utf-8"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


@pytest.mark.django_db
def test_uploading_needs_the_add_permission(client, viewer_user):
    client.force_login(viewer_user)

    assert client.get(reverse("imports:new")).status_code == 403
    assert post(client, "a.csv", b"sku,name\na,b\n").status_code == 403
    assert not ImportJob.objects.exists()
