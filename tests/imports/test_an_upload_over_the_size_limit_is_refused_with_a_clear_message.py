import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import ImportJob

CSV = b"sku,name\n" + b"".join(b"sku-%d,Product %d\n" % (i, i) for i in range(200))


@pytest.fixture
def small_limit(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    return settings.IMPORT_MAX_UPLOAD_BYTES


@pytest.mark.django_db
def test_the_page_shows_the_size_and_the_limit(staff_client, small_limit):
    upload = SimpleUploadedFile("big.csv", CSV, "text/csv")

    response = staff_client.post(reverse("imports:new"), {"file": upload, "encoding": "utf-8",
                                                          "delimiter": ","})  # fmt: skip

    assert response.status_code == 413
    page = response.content.decode()
    assert "the upload limit is 1000\xa0bytes" in page
    assert "IMPORT_MAX_UPLOAD_BYTES" in page
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_body_announced_far_over_the_limit_is_refused_before_it_is_read(
    staff_client, small_limit
):
    upload = SimpleUploadedFile("big.csv", CSV * 400, "text/csv")  # over limit + 64 KiB

    response = staff_client.post(
        reverse("imports:new"), {"file": upload}, headers={"Accept": "application/json"}
    )

    assert response.status_code == 413
    assert "upload limit" in response.json()["errors"]["file"][0]["message"]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_api_answers_413_with_the_limit(staff_user, small_limit):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    upload = SimpleUploadedFile("big.csv", CSV, "text/csv")

    response = client.post("/api/imports/", {"file": upload}, format="multipart")

    assert response.status_code == 413
    assert "the upload limit is 1000" in response.json()["file"][0]
    assert not ImportJob.objects.exists()
