"""Clearing a finished job's live key in Redis is best effort (after the outcome commits). If
the key is left behind saying "running", readers confirm it against the job row and show the
row's final state; and the key no longer outlives its job by a day: it expires unless the
heartbeat of a running import keeps it."""

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from acme.lib.redis_client import get_redis
from imports import event_stream, progress
from imports.execution import Heartbeat
from imports.models import ImportJob
from tests.support.waiting import wait_until


@pytest.fixture
def finished_job(db):
    job = ImportJob.objects.create(
        original_name="done.csv", size=1234, status=ImportJob.Status.COMPLETED,
        rows_read=10, rows_valid=10, created=10, started_at=timezone.now(),
        finished_at=timezone.now(),
    )  # fmt: skip
    # The worker's clear after commit failed: the key still says running.
    progress.publish(job.pk, status="running", phase="merging", records_processed=5,
                     bytes_processed=600, bytes_total=1234, percent=48.6)  # fmt: skip
    return job


def _done_event(stream: str) -> dict:
    assert "event: done\ndata: " in stream, stream
    return json.loads(stream.split("event: done\ndata: ", 1)[1].split("\n", 1)[0])


@pytest.mark.django_db
def test_the_progress_json_and_the_page_show_the_rows_final_state(staff_client, finished_job):
    state = staff_client.get(reverse("imports:progress", args=[finished_job.pk])).json()
    assert (state["status"], state["finished"], state["live"]) == ("completed", True, False)
    assert state["counts"]["created"] == 10

    progress.publish(finished_job.pk, status="running", phase="merging")  # left behind again
    page = staff_client.get(reverse("imports:detail", args=[finished_job.pk]))
    assert page.context["state"]["status"] == "completed"


@pytest.mark.django_db
def test_the_event_stream_ends_with_the_rows_final_state(staff_client, finished_job):
    response = staff_client.get(reverse("imports:events", args=[finished_job.pk]))
    stream = ""
    give_up = time.monotonic() + 30  # a stream that never ends fails instead of hanging
    for chunk in response.streaming_content:
        stream += chunk.decode() if isinstance(chunk, bytes) else chunk
        if "event: done" in stream or time.monotonic() > give_up:
            break
    assert _done_event(stream)["status"] == "completed"


@pytest.mark.django_db(transaction=True)
def test_the_shared_watcher_on_the_event_loop_ends_with_the_rows_final_state(finished_job):
    async def follow() -> str:
        chunks = []
        events = event_stream._async_events(finished_job.pk, lambda state: state)
        async with asyncio.timeout(30):
            async for chunk in events:
                chunks.append(chunk)
        return "".join(chunks)

    # A loop of its own in a thread of its own: Playwright's sync API (the browser tests earlier
    # in the run) leaves an event loop running on this thread, where asyncio.run() refuses.
    with ThreadPoolExecutor(max_workers=1) as thread:
        events = thread.submit(asyncio.run, follow()).result()
    assert _done_event(events)["status"] == "completed"


@pytest.mark.django_db(transaction=True)
def test_a_running_jobs_key_expires_unless_its_heartbeat_keeps_it(settings):
    assert progress.KEY_TTL_SECONDS <= 3600
    settings.IMPORT_HEARTBEAT_SECONDS = 0.05
    beat = timezone.now() - timedelta(minutes=1)
    job = ImportJob.objects.create(original_name="a.csv", size=1, status="running",
                                   attempts=1, started_at=beat, heartbeat_at=beat)  # fmt: skip
    progress.publish(job.pk, status="running", phase="merging")
    key = progress.progress_key(job.pk)
    get_redis().expire(key, 2)
    tracker = progress.ProgressTracker(job.pk, bytes_total=1)
    tracker.phase = "merging"
    heartbeat = Heartbeat(job_id=job.pk, attempt=1, tracker=tracker)
    heartbeat.start()
    try:
        wait_until(lambda: get_redis().ttl(key) > 2, timeout=10, what="the key's TTL refreshed")
    finally:
        heartbeat.stop()
