"""Fifty clients follow one import's events stream through the real web server, and
another request is answered while every one of them is still connected."""

import threading

import httpx
import pytest
from rest_framework.authtoken.models import Token

from imports import progress, services
from imports.models import ImportJob
from tests.support.sse import events
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

FOLLOWERS = 50


class Follower(threading.Thread):
    """Follows the stream, records each event's name, and says when it got the first one."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.headers = {"Authorization": f"Token {token}"}
        self.connected = threading.Event()
        self.names: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=120) as response:
                response.raise_for_status()
                for name, _ in events(response.iter_lines()):
                    self.names.append(name)
                    self.connected.set()
        except BaseException as exc:  # reported by the test
            self.error = exc


def test_fifty_followers_stay_connected_while_another_request_is_answered(web_server, staff_user):
    token = Token.objects.create(user=staff_user).key
    # A queued job that no worker runs: it stays live until the test cancels it.
    job = ImportJob.objects.create(original_name="waiting.csv", size=100)
    progress.publish_queued(job.pk, bytes_total=100)
    url = f"{web_server.url}/api/imports/{job.pk}/events/"
    followers = [Follower(url, token) for _ in range(FOLLOWERS)]
    for follower in followers:
        follower.start()

    wait_until(lambda: all(f.connected.is_set() for f in followers), timeout=60,
               what=f"{FOLLOWERS} followers to get their first event")  # fmt: skip
    answer = httpx.get(f"{web_server.url}/api/products/", timeout=60,
                       headers={"Authorization": f"Token {token}"})  # fmt: skip

    assert answer.status_code == 200
    assert answer.json()["count"] == 0
    still_connected = [f for f in followers if f.is_alive() and f.names[-1:] != ["done"]]
    assert len(still_connected) == FOLLOWERS, [f.error for f in followers if f.error]

    services.import_job_cancel(job=job)
    for follower in followers:
        follower.join(timeout=60)
    assert not [f.error for f in followers if f.error]
    assert all(f.names[-1] == "done" and not f.is_alive() for f in followers)
