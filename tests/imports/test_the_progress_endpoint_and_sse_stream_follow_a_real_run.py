import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services
from imports.pipeline import PHASES
from tests.imports.jobs import BIG_ROWS
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running_job(staff_user, big_csv):
    upload = SimpleUploadedFile("big.csv", big_csv.read_bytes(), "text/csv")
    return services.import_job_create(uploaded_file=upload, options={}, user=staff_user)


def test_the_progress_endpoint_shows_the_phases_then_the_outcome(
    celery_worker, staff_client, running_job, big_csv
):
    url = reverse("imports:progress", args=[running_job.pk])
    seen: list[dict] = []

    def finished():
        response = staff_client.get(url)
        assert response.status_code == 200
        state = response.json()
        seen.append(state)
        return state if state["finished"] else None

    final = wait_until(finished, timeout=90, every=0.02, what="the import to finish")

    running = [state for state in seen if state["status"] == "running"]
    assert running, "never saw the job running"
    assert all(state["phase"] in PHASES and state["live"] for state in running)
    reading = [state for state in running if state["records_processed"]]
    assert reading, "never saw records being processed"
    assert reading[-1]["bytes_total"] == big_csv.stat().st_size
    assert 0 < reading[-1]["bytes_processed"] <= big_csv.stat().st_size
    assert final["status"] == "completed"
    assert final["live"] is False
    assert final["counts"]["created"] == BIG_ROWS


def test_the_sse_stream_sends_progress_events_and_ends_with_the_outcome(
    celery_worker, staff_client, running_job
):
    response = staff_client.get(reverse("imports:events", args=[running_job.pk]))

    assert response["Content-Type"] == "text/event-stream"
    events = []
    for chunk in response.streaming_content:  # ends when the job finishes
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if text.startswith("event:"):
            name, data = text.split("\n", 2)[:2]
            events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))

    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert set(names[:-1]) == {"progress"}
    assert any(state["status"] == "running" and state["phase"] in PHASES for _, state in events)
    assert events[-1][1]["status"] == "completed"
    assert events[-1][1]["counts"]["created"] == BIG_ROWS
