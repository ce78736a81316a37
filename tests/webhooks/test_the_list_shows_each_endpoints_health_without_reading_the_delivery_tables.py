"""The webhooks list (page and API) shows each endpoint's health: deliveries and requests of
the last 24 h, success rate, p50/p95 response time, last success and last failure. It reads
the health rollups (webhooks.health), never the deliveries or their attempts.

Percentiles come from a histogram (webhooks.health.LATENCY_BOUNDS_MS): the test checks that each
estimate lies in the same histogram slot as the true percentile of the recorded attempts, which
is all the resolution promises."""

import math
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import yaml
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks import health
from webhooks.events import emit
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

pytestmark = pytest.mark.django_db


def send_queued():
    for delivery_id in Delivery.objects.filter(status="queued").values_list("id", flat=True):
        delivery_module.send(delivery_id)


class HealthCells(HTMLParser):
    """The text of each `data-health` element in one endpoint's row (nested ones included
    in their parent's text too)."""

    def __init__(self, endpoint_id: int) -> None:
        super().__init__()
        self.endpoint_id = str(endpoint_id)
        self.in_row = False
        self.open: list[tuple[str, str | None]] = []
        self.cells: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr":
            self.in_row = attributes.get("data-endpoint") == self.endpoint_id
        if self.in_row and tag in ("td", "div", "span", "time"):
            name = attributes.get("data-health")
            self.open.append((tag, name))
            if name:
                self.cells[name] = ""
            for _, outer in self.open[:-1]:
                if outer:
                    self.cells[outer] += " "  # an inner element starts a line

    def handle_endtag(self, tag):
        if tag == "tr":
            self.in_row = False
        if self.in_row and self.open and self.open[-1][0] == tag:
            self.open.pop()

    def handle_data(self, data):
        for _, name in self.open:
            if name:
                self.cells[name] += data


def true_percentile(durations: list[int], share: float) -> int:
    ordered = sorted(durations)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def assert_same_slot(estimate: int, true_value: int) -> None:
    """The estimate is in the histogram slot of the true value (interpolation puts it
    anywhere inside the slot, its upper bound included)."""
    slot = health.latency_slot(true_value)
    lower = health.LATENCY_BOUNDS_MS[slot - 1] if slot else 0
    upper = health.LATENCY_BOUNDS_MS[min(slot, len(health.LATENCY_BOUNDS_MS) - 1)]
    assert lower <= estimate <= upper, (estimate, true_value, lower, upper)


@pytest.fixture
def endpoints(receiver, make_endpoint):
    """busy gets 200, 200 after 0.3 s, 200, 400 (fails for good), 500 (retried later), 200
    after 0.15 s; then calm gets two 200s (after 0.15 s); idle gets nothing."""
    receiver.script(
        Reply(status=200),
        Reply(status=200, delay=0.3),
        Reply(status=200),
        Reply(status=400),
        Reply(status=500),
        Reply(status=200, delay=0.15),
    )
    busy = make_endpoint(receiver.url("/busy"), events=["product.updated"])
    calm = make_endpoint(receiver.url("/calm"), events=["product.created"])
    idle = make_endpoint(receiver.url("/idle"), events=["product.deleted"])
    for number in range(6):
        emit("product.updated", {"id": number})
    send_queued()
    for number in range(2):
        emit("product.created", {"id": number})
    send_queued()
    assert len(receiver.requests) == 8
    return busy, calm, idle


def expected(endpoint) -> dict:
    """What the list must show, computed from the attempts themselves."""
    attempts = list(DeliveryAttempt.objects.filter(endpoint=endpoint))
    ok = [a for a in attempts if a.success]
    bad = [a for a in attempts if not a.success]
    last_bad = max(bad, key=lambda a: a.attempted_at) if bad else None
    return {
        "attempts": len(attempts),
        "attempts_failed": len(bad),
        "durations": [a.duration_ms for a in attempts],
        "last_success_at": max((a.attempted_at for a in ok), default=None),
        "last_failure_at": last_bad.attempted_at if last_bad else None,
        "last_failure_error": last_bad.error if last_bad else "",
    }


def test_the_api_lists_each_endpoints_health(endpoints, staff_client):
    busy, calm, idle = endpoints
    busy_truth = expected(busy)
    assert busy_truth["attempts"] == 6 and busy_truth["attempts_failed"] == 2

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get("/api/webhooks/")
    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "webhooks_delivery" in q["sql"]]
    by_id = {row["id"]: row["health"] for row in response.json()["results"]}

    got = by_id[busy.pk]
    assert got["attempts"] == 6
    assert got["attempts_failed"] == 2
    assert got["deliveries"] == 5  # four 200s and the 400; the 500 waits for its retry
    assert got["deliveries_failed"] == 1
    assert got["success_rate"] == pytest.approx(4 / 6)
    assert_same_slot(got["p50_ms"], true_percentile(busy_truth["durations"], 0.5))
    assert_same_slot(got["p95_ms"], true_percentile(busy_truth["durations"], 0.95))
    assert got["p95_ms"] >= 200  # the slowest answer took over 0.3 s
    assert got["last_success_at"] == busy_truth["last_success_at"].isoformat().replace(
        "+00:00", "Z"
    )
    assert got["last_failure_at"] == busy_truth["last_failure_at"].isoformat().replace(
        "+00:00", "Z"
    )
    assert got["last_failure_error"] == "HTTP 500"

    got = by_id[calm.pk]
    assert (got["attempts"], got["deliveries"], got["success_rate"]) == (2, 2, 1.0)
    assert got["last_failure_at"] is None and got["last_success_at"] is not None

    assert by_id[idle.pk] == {
        "deliveries": 0,
        "deliveries_failed": 0,
        "attempts": 0,
        "attempts_failed": 0,
        "success_rate": None,
        "p50_ms": None,
        "p95_ms": None,
        "last_success_at": None,
        "last_failure_at": None,
        "last_failure_error": "",
    }
    # One endpoint alone carries the same health.
    single = staff_client.get(f"/api/webhooks/{busy.pk}/").json()["health"]
    assert single == by_id[busy.pk]


def test_the_page_lists_each_endpoints_health(endpoints, staff_client):
    busy, calm, idle = endpoints
    durations = expected(busy)["durations"]

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(reverse("webhooks:list"))
    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "webhooks_delivery" in q["sql"]]
    page = response.content.decode()

    def cells(endpoint) -> dict[str, str]:
        parser = HealthCells(endpoint.pk)
        parser.feed(page)
        assert parser.cells, endpoint
        return {name: " ".join(text.split()) for name, text in parser.cells.items()}

    busy_cells = cells(busy)
    assert busy_cells["deliveries"] == "5 deliveries 6 requests"
    assert busy_cells["attempts"] == "6 requests"
    assert busy_cells["success"] == "66.6%"
    p50, p95 = (int(n) for n in re.findall(r"\d+", busy_cells["latency"]))
    assert_same_slot(p50, true_percentile(durations, 0.5))
    assert_same_slot(p95, true_percentile(durations, 0.95))
    assert re.fullmatch(r"OK (now|.+ ago)", busy_cells["last-success"])
    assert "HTTP 500" in busy_cells["last-failure"]

    calm_cells = cells(calm)
    assert calm_cells["success"] == "100.0%"
    assert calm_cells["last-failure"] == "Failed never"
    idle_cells = cells(idle)
    assert idle_cells["deliveries"] == "0 deliveries 0 requests"
    assert idle_cells["success"] == "–"
    assert idle_cells["last-success"] == "OK never"


def test_only_the_last_24_hours_count_but_the_last_success_and_failure_stay(
    make_endpoint, staff_client
):
    endpoint = make_endpoint("https://93.184.215.14/hook")
    now = timezone.now()
    long_ago = now - timedelta(hours=25)
    health.record_attempts(
        [
            health.Attempted(
                endpoint_id=endpoint.pk, attempted_at=long_ago, success=True, duration_ms=40
            ),
            health.Attempted(
                endpoint_id=endpoint.pk,
                attempted_at=long_ago + timedelta(minutes=1),
                success=False,
                duration_ms=9000,
                error="Timed out",
                ended="failed",
            ),
            health.Attempted(
                endpoint_id=endpoint.pk,
                attempted_at=now - timedelta(hours=23),
                success=True,
                duration_ms=20,
                ended="succeeded",
            ),
        ]
    )
    got = staff_client.get(f"/api/webhooks/{endpoint.pk}/").json()["health"]
    assert (got["attempts"], got["deliveries"], got["deliveries_failed"]) == (1, 1, 0)
    assert got["success_rate"] == 1.0
    assert_same_slot(got["p95_ms"], 20)
    assert got["last_failure_error"] == "Timed out"
    assert got["last_failure_at"].startswith(
        (long_ago + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    )


def test_health_needs_the_view_permission_and_is_in_the_schema(viewer_user, staff_client):
    WebhookEndpoint.objects.create(url="https://93.184.215.14/hook", events=["product.created"])
    client = Client()
    client.force_login(viewer_user)
    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.get("/api/webhooks/").status_code == 403
    viewer_user.user_permissions.add(Permission.objects.get(codename="view_webhookendpoint"))
    client.force_login(User.objects.get(pk=viewer_user.pk))
    assert client.get(reverse("webhooks:list")).status_code == 200
    assert "health" in client.get("/api/webhooks/").json()["results"][0]
    client.logout()
    assert client.get("/api/webhooks/").status_code == 401

    schema = yaml.safe_load(staff_client.get("/api/schema/").content)
    components = schema["components"]["schemas"]
    endpoint_health = components["WebhookEndpoint"]["properties"]["health"]
    ref = endpoint_health.get("$ref") or endpoint_health["allOf"][0]["$ref"]
    fields = components[ref.rsplit("/", 1)[1]]["properties"]
    assert set(fields) == {
        "deliveries",
        "deliveries_failed",
        "attempts",
        "attempts_failed",
        "success_rate",
        "p50_ms",
        "p95_ms",
        "last_success_at",
        "last_failure_at",
        "last_failure_error",
    }
    assert "histogram" in fields["p50_ms"]["description"]
