"""An API client with a token follows `events_url` through the real web server until the
import ends; the stream carries progress events, then one `done` with the outcome."""

import httpx
import pytest
from rest_framework.authtoken.models import Token

from imports.pipeline import PHASES
from tests.imports.jobs import BIG_ROWS
from tests.support.sse import events

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_token_client_follows_the_events_url_to_the_end_of_a_real_run(
    celery_worker, web_server, staff_user, big_csv
):
    token = Token.objects.create(user=staff_user)
    client = httpx.Client(base_url=web_server.url, timeout=30,
                          headers={"Authorization": f"Token {token.key}"})  # fmt: skip
    with big_csv.open("rb") as handle:
        created = client.post("/api/imports/", files={"file": ("big.csv", handle, "text/csv")})
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["events_url"] == f"{web_server.url}/api/imports/{job['id']}/events/"

    with client.stream("GET", job["events_url"], timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        received = list(events(response.iter_lines()))  # ends when the import ends

    names = [name for name, _ in received]
    assert names[-1] == "done" and names.count("done") == 1, names
    assert set(names[:-1]) == {"progress"}
    assert any(state["status"] == "running" and state["phase"] in PHASES
               for _, state in received)  # fmt: skip
    final = received[-1][1]
    assert final["status"] == "completed"
    assert final["counts"]["created"] == BIG_ROWS
