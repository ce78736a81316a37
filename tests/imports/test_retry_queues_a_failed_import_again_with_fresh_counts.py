import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from imports import services
from imports.models import ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def failed_job(staff_user, sample_upload):
    job = services.import_job_create(uploaded_file=sample_upload, options={}, user=staff_user)
    job.status = ImportJob.Status.FAILED
    job.error = "strict mode: 1 record rejected"
    job.rows_read, job.rows_rejected, job.attempts = 2000, 1, 1
    job.error_report.save("r.csv", ContentFile(b"record,line,reason\n"), save=False)
    job.save()
    return job


def test_retry_queues_a_failed_import_again_with_fresh_counts(
    api, failed_job, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(f"/api/imports/{failed_job.pk}/retry/")

    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    failed_job.refresh_from_db()
    assert (failed_job.status, failed_job.error, failed_job.rows_read) == ("queued", "", 0)
    assert failed_job.rows_rejected == 0 and not failed_job.error_report
    assert failed_job.file  # the stored upload is what runs again
    assert len(callbacks) == 2  # the old report is deleted and the job queued, after commit


def test_a_job_that_is_not_finished_cannot_be_retried(api, failed_job):
    ImportJob.objects.filter(pk=failed_job.pk).update(status="running")

    response = api.post(f"/api/imports/{failed_job.pk}/retry/")

    assert response.status_code == 409
    assert "Only failed or cancelled imports can be retried" in response.json()["detail"]


def test_a_shell_import_cannot_be_retried_because_its_file_was_not_kept(api):
    job = ImportJob.objects.create(original_name="x.csv", size=1, status="failed",
                                   source="command")  # fmt: skip

    response = api.post(f"/api/imports/{job.pk}/retry/")

    assert response.status_code == 409
    assert "run the command again" in response.json()["detail"]


def test_cancel_and_retry_need_the_change_permission(viewer_user, failed_job):
    client = APIClient()
    client.force_authenticate(viewer_user)
    assert client.get(f"/api/imports/{failed_job.pk}/").status_code == 403

    viewer_user.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    viewer_user = type(viewer_user).objects.get(pk=viewer_user.pk)  # fresh permission cache
    client.force_authenticate(viewer_user)
    assert client.post(f"/api/imports/{failed_job.pk}/retry/").status_code == 403
    assert client.post(f"/api/imports/{failed_job.pk}/cancel/").status_code == 403
    assert client.get(f"/api/imports/{failed_job.pk}/").status_code == 200
    assert ImportJob.objects.get(pk=failed_job.pk).status == "failed"
