import json

import pytest
from django.urls import reverse
from django.utils import timezone

from imports import progress
from imports.models import ImportJob


@pytest.fixture
def job(db):
    return ImportJob.objects.create(
        original_name="done.csv", size=1234, status=ImportJob.Status.RUNNING,
        phase=ImportJob.Phase.MERGING, rows_read=10, started_at=timezone.now(),
    )  # fmt: skip


@pytest.mark.django_db
def test_the_live_key_wins_while_the_job_runs(staff_client, job):
    progress.publish(job.pk, status="running", phase="validating", records_processed=5,
                     bytes_processed=600, bytes_total=1234, percent=48.6)  # fmt: skip

    state = staff_client.get(reverse("imports:progress", args=[job.pk])).json()

    assert state["live"] is True
    assert (state["phase"], state["records_processed"], state["percent"]) == ("validating", 5, 48.6)


@pytest.mark.django_db
def test_without_the_key_both_endpoints_answer_from_the_job_row(staff_client, job):
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.COMPLETED, rows_read=10, rows_valid=9, rows_rejected=1,
        created=7, updated=2, finished_at=timezone.now(),
    )  # fmt: skip
    assert progress.read(job.pk) is None

    state = staff_client.get(reverse("imports:progress", args=[job.pk])).json()
    response = staff_client.get(reverse("imports:events", args=[job.pk]))
    stream = b"".join(
        chunk if isinstance(chunk, bytes) else chunk.encode()
        for chunk in response.streaming_content
    ).decode()

    assert state["live"] is False
    assert state["status"] == "completed"
    assert state["counts"] == {"rows_read": 10, "rows_valid": 9, "rows_rejected": 1,
                               "created": 7, "updated": 2, "unchanged": 0,
                               "deactivated": 0, "deleted": 0,
                               "restored": 0, "conflicts": 0}  # fmt: skip
    done = stream.split("event: done\ndata: ", 1)[1].split("\n", 1)[0]
    assert json.loads(done)["counts"] == state["counts"]


@pytest.mark.django_db
def test_a_running_job_without_its_key_shows_the_row_phase(staff_client, job):
    state = staff_client.get(reverse("imports:progress", args=[job.pk])).json()

    assert (state["status"], state["phase"], state["live"]) == ("running", "merging", False)


@pytest.mark.django_db
def test_an_unknown_job_is_404(staff_client):
    assert staff_client.get(reverse("imports:progress", args=[999999])).status_code == 404
    assert staff_client.get(reverse("imports:events", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_a_finished_job_carries_its_outcome_sentence(staff_client, job):
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.COMPLETED, validate_only=True, created=1200, updated=3,
        finished_at=timezone.now(),
    )  # fmt: skip

    state = staff_client.get(reverse("imports:progress", args=[job.pk])).json()

    assert state["validate_only"] is True
    assert state["outcome"] == (
        "Validation complete: would create 1,200, update 3, 0 unchanged, 0 rejected. "
        "The catalogue was not changed."
    )
