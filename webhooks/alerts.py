"""When the system gives up on an endpoint or a delivery, the team hears about it.

Two operational events, which endpoints subscribe to like any other:
- `webhook.endpoint_disabled`: the system turned an endpoint off (the receiver answered 410
  Gone, or WEBHOOKS_DISABLE_AFTER_FAILURES deliveries failed in a row);
- `webhook.delivery_exhausted`: a delivery used up its whole retry schedule without success.
Both are also recorded on the endpoint (disabled_reason and disabled_at; last_exhausted_at and
last_exhausted_error) for the API, the webhooks page's notice and the admin's, until the
endpoint is enabled again (webhooks.services.endpoint_update clears them).

A delivery of an operational event that runs out of retries raises no further event: it would
most likely go to the same failing receiver, and could chain forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from webhooks.event_data import DeliveryExhaustedEventData, EndpointDisabledEventData
from webhooks.events import emit
from webhooks.models import Delivery, EventType, WebhookEndpoint

OPERATIONAL_EVENT_TYPES = frozenset(
    {EventType.WEBHOOK_ENDPOINT_DISABLED, EventType.WEBHOOK_DELIVERY_EXHAUSTED}
)
# How long a delivery that ran out of retries stays in the notices (a disabled endpoint stays
# until it is enabled again).
EXHAUSTED_NOTICE_WINDOW = timedelta(hours=24)
MAX_REASON_LENGTH = 500


def disable_endpoint(endpoint_id: int, *, reason: str) -> None:
    """Turn the endpoint off on the system's behalf (once: an endpoint already off is left
    alone) and emit `webhook.endpoint_disabled`, in the caller's transaction."""
    now = timezone.now()
    changed = WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
        enabled=False,
        disabled_reason=reason[:MAX_REASON_LENGTH],
        disabled_at=now,
        updated_at=now,
    )
    if changed:
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        emit(EventType.WEBHOOK_ENDPOINT_DISABLED, dict(EndpointDisabledEventData(endpoint).data))


def delivery_exhausted(delivery: Delivery, *, error: str) -> None:
    """Record on its endpoint that `delivery` ran out of retries, and emit
    `webhook.delivery_exhausted` (not for operational events themselves)."""
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
        last_exhausted_at=delivery.completed_at or timezone.now(),
        last_exhausted_error=error[:MAX_REASON_LENGTH],
    )
    if delivery.event_type in OPERATIONAL_EVENT_TYPES:
        return
    emit(EventType.WEBHOOK_DELIVERY_EXHAUSTED, dict(DeliveryExhaustedEventData(delivery).data))


@dataclass(frozen=True)
class Notice:
    endpoint: WebhookEndpoint
    at: datetime
    text: str


def notices() -> list[Notice]:
    """What the webhooks page and the admin warn about, newest first: endpoints disabled by
    the system, and deliveries that ran out of retries in the last EXHAUSTED_NOTICE_WINDOW."""
    since = timezone.now() - EXHAUSTED_NOTICE_WINDOW
    found: list[Notice] = []
    endpoints = WebhookEndpoint.objects.filter(
        Q(enabled=False, disabled_at__isnull=False) | Q(last_exhausted_at__gte=since)
    )
    for endpoint in endpoints:
        if not endpoint.enabled and endpoint.disabled_at:
            found.append(
                Notice(
                    endpoint=endpoint,
                    at=endpoint.disabled_at,
                    text=f"{endpoint.url} was disabled automatically: {endpoint.disabled_reason} "
                    "Fix the receiver, then enable it again.",
                )
            )
        if endpoint.last_exhausted_at and endpoint.last_exhausted_at >= since:
            found.append(
                Notice(
                    endpoint=endpoint,
                    at=endpoint.last_exhausted_at,
                    text=f"A delivery to {endpoint.url} ran out of retries "
                    f"({endpoint.last_exhausted_error or 'no answer'}); redeliver it from the "
                    "endpoint's delivery log once the receiver works.",
                )
            )
    return sorted(found, key=lambda notice: notice.at, reverse=True)
