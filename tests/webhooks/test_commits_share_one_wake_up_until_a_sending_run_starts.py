"""Queued deliveries wake a sending run with one message for many commits: while a wake-up
is on its way and no run has started on it, later commits send none (that run claims their
rows too); once a run starts, the next commit sends a new one."""

import pytest

from acme.celery import app
from acme.lib import queues
from webhooks import events


@pytest.fixture
def no_sending_run(settings):
    """No worker of this test run takes a wake-up (a run would start) until the test ends."""
    queue = queues.queue_name(queues.WEBHOOKS, settings.CELERY_QUEUE_PREFIX)
    consuming = app.control.inspect(timeout=1).active_queues() or {}
    hosts = [host for host, found in consuming.items() if queue in {q["name"] for q in found}]
    if hosts:
        app.control.cancel_consumer(queue, destination=hosts, reply=True, timeout=5)
    yield
    app.control.purge()
    if hosts:
        app.control.add_consumer(queue, destination=hosts, reply=True, timeout=5)


def test_commits_share_one_wake_up_until_a_sending_run_starts(no_sending_run):
    assert events.wake() is True
    assert events.wake() is False
    assert events.wake() is False

    events.wake_taken()  # a run starts

    assert events.wake() is True
    assert events.wake(force=True) is True  # the poller's and a handing-over run's
    assert events.wake(countdown=5) is True  # a retry's
