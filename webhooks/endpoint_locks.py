"""How delivery writers and endpoint changes take turns on an endpoint's row.

Whoever writes delivery rows for an endpoint (`events.emit`, a worker recording a batch of
attempts: webhooks.recording, ending a disabled endpoint's deliveries: claims.fail_disabled,
moving them to wait for a window or failing that backlog: webhooks.backlog, a recover) holds
FOR KEY SHARE on the endpoint's row until it commits; a person changing or deleting an
endpoint (edit, enable/disable, rotate, delete: webhooks.services, the admin's bulk delete
included) takes FOR UPDATE on it first. The other writers never wait for a delivery row while
holding another: the claims and the poller pick rows FOR UPDATE SKIP LOCKED and write only
those, a single `send` claims one row.
The system's own disable (webhooks.alerts.disable_endpoint, run by a worker after a 410 or too
many failures) is a plain UPDATE of enabled and the disable fields: it takes FOR NO KEY UPDATE,
which does not conflict with KEY SHARE, so it neither waits for the writers nor makes them wait
(a FOR UPDATE there could deadlock against other workers holding KEY SHARE on the row). A
delivery written for the endpoint while that UPDATE is in flight is still sent or failed by the
worker, which re-reads `enabled` before each attempt. For a person's change:

- a change waits for the deliveries being written for the endpoint at that moment, and a
  writer that comes after the change re-reads the row and sees it (deleted, disabled, other
  events): no delivery row is written for an endpoint after its change committed, and a
  delete never meets a delivery inserted between its cascade and its own DELETE;
- writers never wait for each other (KEY SHARE locks are compatible), and the worker's
  consecutive-failure counter update (FOR NO KEY UPDATE) does not wait for them either;
- a delete (endpoint, then its deliveries) and a worker writing deliveries (endpoints,
  then the deliveries) take the locks in the same order, so they cannot deadlock (a writer
  that took a delivery row first and then waited for one the delete had removed did:
  tests/webhooks/test_worker_writes_wait_for_an_endpoint_delete_in_progress.py); a batch
  locks all its endpoints (in id order) before it writes any delivery row, and writes
  endpoint rows (failure counters, disables) in id order, so two batches cannot either.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.http import Http404

from webhooks.models import WebhookEndpoint


class EndpointGone(Http404):
    """The endpoint (and so its deliveries) was deleted between the caller reading it and
    locking it: the API and the pages answer 404 (both turn Http404 into one), the admin's
    actions skip it with a message."""

    def __init__(self, endpoint_id: int) -> None:
        super().__init__(f"Endpoint {endpoint_id} was deleted meanwhile.")


class DeliveryGone(Http404):
    """The delivery was deleted (with its endpoint, or by retention) while being acted on."""

    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"Delivery {delivery_id} was deleted meanwhile.")


def subscribed_endpoint_ids(event_type: str) -> list[int]:
    """Ids of the enabled endpoints subscribed to `event_type`, locked FOR KEY SHARE."""
    query = WebhookEndpoint.objects.filter(enabled=True, events__contains=[event_type])
    sql, params = query.values_list("id", flat=True).order_by("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
        return [row[0] for row in cursor.fetchall()]


def share_endpoints(endpoint_ids: Iterable[int]) -> set[int]:
    """Lock these endpoints FOR KEY SHARE before writing for them, in id order (two workers
    recording batches that share endpoints take the locks in the same order); returns the
    ids that still exist."""
    table = WebhookEndpoint._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",
            [sorted(set(endpoint_ids))],
        )
        return {row[0] for row in cursor.fetchall()}


def share_endpoint(endpoint_id: int) -> bool:
    """Lock the endpoint FOR KEY SHARE before writing for it; False if it is gone."""
    return bool(share_endpoints([endpoint_id]))


def lock_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Lock the endpoint FOR UPDATE (inside the caller's transaction) and return its current
    row; raises EndpointGone when it was deleted meanwhile."""
    try:
        return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    except WebhookEndpoint.DoesNotExist:
        raise EndpointGone(endpoint.pk) from None


def share_existing_endpoint(endpoint_id: int) -> None:
    """share_endpoint, raising EndpointGone when it was deleted meanwhile."""
    if not share_endpoint(endpoint_id):
        raise EndpointGone(endpoint_id)
