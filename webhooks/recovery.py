"""Recover after an outage: send again, now, an endpoint's deliveries that did not succeed.

Every delivery of the endpoint created in [since, until) that failed or waits for a retry
becomes WAITING in one statement, and the endpoint's drain (webhooks.drain) sends them, oldest
first, within the endpoint's rate limit, ahead of anything that waits behind them. A
`Recovery` row remembers what was asked; its progress is read from the deliveries themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from webhooks import backlog
from webhooks.endpoint_locks import share_existing_endpoint
from webhooks.models import Delivery, Recovery, WebhookEndpoint

# Not succeeded: failed for good, or waiting (hours, maybe) for a retry.
RECOVERABLE_STATES = (Delivery.Status.FAILED, Delivery.Status.PENDING)
# Sent again now, by the drain.
SENDING_STATES = (Delivery.Status.WAITING, Delivery.Status.QUEUED, Delivery.Status.SENDING)


# What the page's form and the admin action start from: the last day.
DEFAULT_WINDOW = timedelta(hours=24)
# The longest window one recovery sends again: without a bound, since=1970 would resend every
# failure of the whole retention period to a receiver that has just come back.
MAX_WINDOW = timedelta(days=7)


def check_window(since: datetime, until: datetime | None = None) -> None:
    """Raise a ValidationError naming the field at fault when `until` (default: now) is not
    later than `since`, or the window is longer than MAX_WINDOW. The API's serializer and the
    page's form call it, so a person gets the field's error (400), not a refusal."""
    if until is not None and until <= since:
        raise ValidationError({"until": "`until` must be later than `since`."})
    if (until or timezone.now()) - since > MAX_WINDOW:
        raise ValidationError(
            {
                "since": f"A recovery covers at most {MAX_WINDOW.days} days: choose a later "
                "`since` (or an earlier `until`), and recover older deliveries separately."
            }
        )


class RecoverRefused(Exception):
    """A recovery that cannot start; the message says what to do instead."""


@transaction.atomic
def recover(
    *, endpoint: WebhookEndpoint, since: datetime, until: datetime | None = None, user=None
) -> Recovery:
    """Steps: refuse a window check_window refuses (the API and the page checked it already:
    this covers other callers, and `now` having moved on since); hold the endpoint (FOR KEY
    SHARE, webhooks.endpoint_locks) and refuse if it is gone or disabled; turn the window's
    failed and retry-waiting deliveries (tests excepted) WAITING, from the start of the retry
    schedule; record the Recovery; after commit, have the endpoint's drain send them."""
    try:
        check_window(since, until)
    except ValidationError as error:
        raise RecoverRefused(" ".join(error.messages)) from None
    share_existing_endpoint(endpoint.pk)  # EndpointGone (a 404) when deleted meanwhile
    endpoint.refresh_from_db(fields=["enabled"])
    if not endpoint.enabled:
        raise RecoverRefused("The endpoint is disabled: enable it first, then recover.")
    window = Q(endpoint=endpoint, created_at__gte=since, is_test=False)
    if until is not None:
        window &= Q(created_at__lt=until)
    now = timezone.now()
    count = Delivery.objects.filter(window, status__in=RECOVERABLE_STATES).update(
        status=Delivery.Status.WAITING,
        retries=0,
        next_attempt_at=None,
        completed_at=None,
        claimed_at=now,
    )
    recovery = Recovery.objects.create(
        endpoint=endpoint, since=since, until=until, count=count, requested_by=user
    )
    if count:
        backlog.schedule_drain(endpoint.pk)
    return recovery


@dataclass(frozen=True)
class Progress:
    count: int
    remaining: int
    succeeded: int
    not_succeeded: int

    @property
    def done(self) -> bool:
        return self.remaining == 0


def progress(recovery: Recovery) -> Progress:
    """How far the recovery is: of the deliveries it sent again, how many wait to be sent,
    succeeded, or failed again (now failed, or waiting for a retry). One indexed range read
    of the window (delivery_endpoint_log)."""
    window = Q(endpoint_id=recovery.endpoint_id, created_at__gte=recovery.since, is_test=False)
    if recovery.until is not None:
        window &= Q(created_at__lt=recovery.until)
    counts = Delivery.objects.filter(window).aggregate(
        remaining=Count("id", filter=Q(status__in=SENDING_STATES)),
        succeeded=Count(
            "id",
            filter=Q(status=Delivery.Status.SUCCEEDED, completed_at__gte=recovery.created_at),
        ),
    )
    remaining = min(counts["remaining"], recovery.count)
    succeeded = min(counts["succeeded"], recovery.count - remaining)
    return Progress(
        count=recovery.count,
        remaining=remaining,
        succeeded=succeeded,
        not_succeeded=recovery.count - remaining - succeeded,
    )
