"""The API's `error_report_url` is an API endpoint: a token client downloads the CSV of
rejected records there (the page URL would send it to the login page)."""

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import ImportJob

REPORT = "record,line,reason,sku,name\n3,4,sku is empty,,Widget\n"


@pytest.fixture
def job_with_report(db):
    job = ImportJob.objects.create(
        original_name="catalogue.csv", size=100, status=ImportJob.Status.COMPLETED,
        rows_read=3, rows_rejected=1, finished_at=timezone.now(),
    )  # fmt: skip
    job.error_report.save("report.csv", ContentFile(REPORT.encode()))
    return job


@pytest.mark.django_db
def test_a_token_client_downloads_the_report_from_the_error_report_url(staff_user, job_with_report):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")

    job = client.get(f"/api/imports/{job_with_report.pk}/").json()
    assert job["error_report_url"] == f"http://testserver/api/imports/{job_with_report.pk}/report/"
    response = client.get(job["error_report_url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert f"import-{job_with_report.pk}-rejected-records.csv" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode() == REPORT


@pytest.mark.django_db
def test_a_job_without_a_report_answers_404(staff_user):
    job = ImportJob.objects.create(original_name="clean.csv", size=10,
                                   status=ImportJob.Status.COMPLETED)  # fmt: skip
    client = APIClient()
    client.force_authenticate(staff_user)

    assert client.get(f"/api/imports/{job.pk}/").json()["error_report_url"] is None
    response = client.get(f"/api/imports/{job.pk}/report/")
    assert response.status_code == 404
    assert response.json()["detail"]
