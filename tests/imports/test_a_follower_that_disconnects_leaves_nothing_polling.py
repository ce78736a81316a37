"""A client that drops its events stream frees what it held: the ASGI app (what gunicorn
serves) ends the stream at once, and the job's watcher stops when its last follower leaves."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from rest_framework.authtoken.models import Token

from imports import event_stream, progress
from imports.models import ImportJob

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_follower_that_disconnects_leaves_no_watcher_behind(staff_user):
    from acme.asgi import application

    token = Token.objects.create(user=staff_user).key
    job = ImportJob.objects.create(original_name="waiting.csv", size=100)
    progress.publish_queued(job.pk, bytes_total=100)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": f"/api/imports/{job.pk}/events/", "raw_path": b"",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Token {token}".encode())],
    }  # fmt: skip

    async def follow_then_leave():
        inbox: asyncio.Queue = asyncio.Queue()
        await inbox.put({"type": "http.request", "body": b"", "more_body": False})
        sent: list[dict] = []
        got_progress = asyncio.Event()

        async def send(message):
            sent.append(message)
            if b"event: progress" in message.get("body", b""):
                got_progress.set()

        app = asyncio.create_task(application(scope, inbox.get, send))
        await asyncio.wait_for(got_progress.wait(), 60)
        watches = list(event_stream._watches.values())
        await inbox.put({"type": "http.disconnect"})
        await asyncio.wait_for(app, 60)  # the app returns: the stream ended
        if watches:
            await asyncio.wait([watch.task for watch in watches], timeout=60)
        stopped = [watch.task.cancelled() for watch in watches]  # before the loop ends them
        # The stream views' thread keeps its connection like a WSGI thread; this test's
        # database is dropped at the end of the run.
        await sync_to_async(connections.close_all)()
        return sent, watches, stopped

    # A loop of its own in a thread of its own: Playwright's sync API (the browser tests earlier
    # in the run) leaves an event loop running on this thread, where asyncio.run() refuses.
    with ThreadPoolExecutor(max_workers=1) as thread:
        sent, watches, stopped = thread.submit(asyncio.run, follow_then_leave()).result()

    assert sent[0]["status"] == 200
    assert len(watches) == 1 and watches[0].followers == 0
    assert stopped == [True]
    assert event_stream._watches == {}
