"""Deliveries over an endpoint's rate limit wait in PostgreSQL and are sent in order by one
drain per endpoint, a window's budget at a time; the rows still waiting are never written
while they wait (a backlog of N costs O(N) writes, not O(N^2 / limit))."""

import json
import time
from collections import Counter

import pytest
from django.db import connection

from webhooks import delivery as delivery_module
from webhooks import drain
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

BACKLOG = 6


@pytest.fixture
def row_writes():
    """Every UPDATE of a delivery row, noted by a trigger (rolled back with the test)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE test_delivery_writes (delivery_id bigint, status text);
            CREATE FUNCTION test_note_delivery_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO test_delivery_writes VALUES (NEW.id, NEW.status);
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_note_delivery_write AFTER UPDATE ON webhooks_delivery
                FOR EACH ROW EXECUTE FUNCTION test_note_delivery_write();
            """
        )

    def written() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT delivery_id FROM test_delivery_writes")
            return [row[0] for row in cursor.fetchall()]

    return written


def test_a_rate_limited_backlog_is_sent_in_order_without_rewriting_waiting_rows(
    receiver, make_endpoint, settings, row_writes
):
    settings.WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS = 1
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=1)
    for number in range(BACKLOG):
        emit("product.created", {"id": number})
    ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))

    # Their messages arrive: the window's one slot goes out, the rest wait for the drain.
    for delivery_id in ids:
        delivery_module.send(delivery_id)
    waiting = set(
        Delivery.objects.filter(status=Delivery.Status.WAITING).values_list("id", flat=True)
    )
    assert len(waiting) >= BACKLOG - 2  # (the window may have turned once meanwhile)

    # Each row was written once to start waiting; from now on only rows being sent are.
    writes_while_waiting = Counter(row_writes())
    rounds = 0
    while waiting:
        assert rounds <= 2 * BACKLOG  # a window's budget goes out in each (the first may be spent)
        wait = drain.drain(endpoint.id)
        rounds += 1
        still_waiting = set(
            Delivery.objects.filter(status=Delivery.Status.WAITING).values_list("id", flat=True)
        )
        assert still_waiting <= waiting
        writes = Counter(row_writes())
        assert all(writes[row] == writes_while_waiting[row] for row in still_waiting)
        waiting = still_waiting
        if wait is not None:
            time.sleep(wait)  # until the endpoint's next window

    assert Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == BACKLOG
    assert [json.loads(r.body)["data"]["id"] for r in receiver.requests] == list(range(BACKLOG))
    assert drain.drain(endpoint.id) is None  # nothing left: the drain ends
