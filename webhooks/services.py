"""Every write to webhook endpoints and deliveries made on behalf of a user."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from webhooks.endpoint_locks import (
    DeliveryGone,
    EndpointGone,
    lock_endpoint,
    share_existing_endpoint,
)
from webhooks.event_data import TestEventData
from webhooks.events import enqueue_after_commit, new_msg_id
from webhooks.models import (
    ROTATION_OVERLAP_HOURS_DEFAULT,
    ROTATION_OVERLAP_HOURS_MAX,
    TEST_EVENT_TYPE,
    Delivery,
    WebhookEndpoint,
    generate_secret,
)
from webhooks.targets import check_url


@transaction.atomic
def endpoint_create(
    *,
    url: str,
    events: list[str],
    description: str = "",
    enabled: bool = True,
    rate_limit: int = 60,
) -> WebhookEndpoint:
    """Raises webhooks.targets.TargetRefused for a URL the SSRF guard refuses."""
    check_url(url)
    return WebhookEndpoint.objects.create(
        url=url,
        events=sorted(set(events)),
        description=description,
        enabled=enabled,
        rate_limit=rate_limit,
    )


def _lock(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """The endpoint's current row, locked until commit, with the caller's instance brought up
    to date (webhooks.endpoint_locks: waits for deliveries being written for it)."""
    current = lock_endpoint(endpoint)
    endpoint.__dict__.update(
        {field.attname: getattr(current, field.attname) for field in current._meta.concrete_fields}
    )
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change url/description/events/enabled/rate_limit; re-enabling clears the failure state."""
    allowed = {"url", "description", "events", "enabled", "rate_limit"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"cannot change {', '.join(sorted(unknown))}")
    endpoint = _lock(endpoint)
    if "url" in changes and changes["url"] != endpoint.url:
        check_url(changes["url"])
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    if changes.get("enabled") and not endpoint.enabled:
        # A fresh start: the failure count and the notices of webhooks.alerts are cleared.
        endpoint.consecutive_failures = 0
        endpoint.last_exhausted_at = None
        endpoint.last_exhausted_error = ""
    if changes.get("enabled") is not None and changes["enabled"] != endpoint.enabled:
        endpoint.disabled_reason = ""
        endpoint.disabled_at = None
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.save()
    return endpoint


def endpoint_set_enabled(*, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    return endpoint_update(endpoint=endpoint, enabled=enabled)


@transaction.atomic
def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, overlap_hours: int = ROTATION_OVERLAP_HOURS_DEFAULT
) -> WebhookEndpoint:
    """A new secret signs every attempt from now on, retries of older deliveries included;
    the replaced one signs next to it for `overlap_hours` more (0: it stops at once).

    Rotating again during an overlap keeps the secret just replaced, as the receiver was
    presumably moved to it; the one before stops signing.
    """
    if not 0 <= overlap_hours <= ROTATION_OVERLAP_HOURS_MAX:
        raise ValueError(f"overlap_hours must be 0 to {ROTATION_OVERLAP_HOURS_MAX}")
    endpoint = _lock(endpoint)
    if overlap_hours:
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(hours=overlap_hours)
    else:
        endpoint.previous_secret = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret = generate_secret()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    _lock(endpoint).delete()


TEST_MESSAGE = "Test delivery from Acme."


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint) -> Delivery:
    """Queue one test delivery; the worker sends it (one attempt, no retries)."""
    share_existing_endpoint(endpoint.pk)
    now = timezone.now()
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type=TEST_EVENT_TYPE,
        payload={
            "type": TEST_EVENT_TYPE,
            "timestamp": now.isoformat(),
            "data": dict(TestEventData({"endpoint_id": endpoint.id, "message": TEST_MESSAGE}).data),
        },
        msg_id=new_msg_id(),
        is_test=True,
        status=Delivery.Status.QUEUED,
        next_attempt_at=now,
        claimed_at=now,
    )
    enqueue_after_commit([delivery.id])
    return delivery


class RedeliverRefused(Exception):
    """A delivery that cannot be sent again now; the message says what to do instead."""


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a finished delivery again, same `webhook-id` and payload, from the schedule's start.

    Raises DeliveryGone (a 404) when it was deleted meanwhile; RedeliverRefused for a delivery
    still waiting or being sent (it will be sent anyway) and for one whose endpoint is disabled
    (test deliveries excepted).
    """
    try:
        share_existing_endpoint(delivery.endpoint_id)
    except EndpointGone:
        raise DeliveryGone(delivery.pk) from None
    current = (
        Delivery.objects.select_related("endpoint")
        .select_for_update(of=("self",))
        .filter(pk=delivery.pk)
        .first()
    )
    if current is None:  # deleted by retention meanwhile
        raise DeliveryGone(delivery.pk)
    delivery = current
    if not delivery.is_final:
        raise RedeliverRefused("This delivery is still waiting to be sent; it was left as is.")
    if not delivery.endpoint.enabled and not delivery.is_test:
        raise RedeliverRefused("The endpoint is disabled: enable it first, then redeliver.")
    now = timezone.now()
    delivery.status = Delivery.Status.QUEUED
    delivery.retries = 0
    delivery.next_attempt_at = now
    delivery.claimed_at = now
    delivery.completed_at = None
    delivery.save(
        update_fields=["status", "retries", "next_attempt_at", "claimed_at", "completed_at"]
    )
    enqueue_after_commit([delivery.id])
    return delivery
