"""Webhook endpoints, their deliveries (the outbox) and every delivery attempt.

A delivery is written by `webhooks.events.emit` in the caller's transaction; its due time lives
here (`next_attempt_at`), never only in the broker. Each HTTP attempt is its own row.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

if TYPE_CHECKING:  # webhooks.recovery imports this module
    from webhooks.recovery import Progress as RecoveryProgress

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


def generate_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


# Rotation: how long the replaced secret keeps signing next to the new one (Stripe-style roll),
# so receivers can be redeployed with the new secret without rejecting anything meanwhile.
ROTATION_OVERLAP_HOURS_DEFAULT = 24
ROTATION_OVERLAP_HOURS_MAX = 7 * 24


class EventType(models.TextChoices):
    PRODUCT_CREATED = "product.created", "product.created"
    PRODUCT_UPDATED = "product.updated", "product.updated"
    PRODUCT_DELETED = "product.deleted", "product.deleted"
    PRODUCTS_DELETED_ALL = "products.deleted_all", "products.deleted_all"
    IMPORT_COMPLETED = "import.completed", "import.completed"
    IMPORT_FAILED = "import.failed", "import.failed"
    IMPORT_REVERTED = "import.reverted", "import.reverted"
    # Operational events (webhooks.alerts): the system gave up on an endpoint or a delivery.
    WEBHOOK_ENDPOINT_DISABLED = "webhook.endpoint_disabled", "webhook.endpoint_disabled"
    WEBHOOK_DELIVERY_EXHAUSTED = "webhook.delivery_exhausted", "webhook.delivery_exhausted"


# Sent only by the "Send test" button; endpoints cannot subscribe to it.
TEST_EVENT_TYPE = "webhook.test"


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=255, blank=True, default="")
    events = ArrayField(models.CharField(max_length=40, choices=EventType.choices), default=list)
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, default=generate_secret)
    # The secret replaced by the last rotation, which also signs until the overlap ends.
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    rate_limit = models.PositiveIntegerField(
        default=60, help_text="Deliveries per minute at most, across all workers."
    )
    # Set when the endpoint was turned off by the system (410 Gone, too many failures);
    # cleared when it is enabled again (webhooks.alerts).
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # The latest delivery that ran out of retries, until the endpoint is enabled again.
    last_exhausted_at = models.DateTimeField(null=True, blank=True)
    last_exhausted_error = models.CharField(max_length=500, blank=True, default="")
    # Failed deliveries in a row (a success resets it); see WEBHOOKS_DISABLE_AFTER_FAILURES.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["url", "id"]
        indexes = [
            # emit(): `WHERE enabled AND events @> ARRAY[%s]`, run on every product write.
            GinIndex(
                fields=["events"], name="webhook_enabled_events", condition=models.Q(enabled=True)
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, at: datetime) -> list[str]:
        """The secrets that sign a delivery sent at `at`: the current one, and the previous
        one while the rotation's overlap lasts (Standard Webhooks allows several signatures)."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and at < expires:
            return [self.secret, self.previous_secret]
        return [self.secret]

    @property
    def previous_secret_active(self) -> bool:
        return len(self.signing_secrets(timezone.now())) > 1


class Delivery(models.Model):
    class Status(models.TextChoices):
        # Waiting in PostgreSQL for `next_attempt_at` (a long retry wait).
        PENDING = "pending", "Pending"
        # Over the endpoint's rate limit: the endpoint's drain sends it, in order, in a later
        # window (webhooks.drain); nothing touches the row while it waits.
        WAITING = "waiting", "Waiting for the rate limit"
        # A message for it is in the Celery queue.
        QUEUED = "queued", "Queued"
        # A worker claimed it and is sending it now.
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    # A delivery in one of these is done; only these are deleted after the retention period.
    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    # Indexed by delivery_endpoint_log (leading column).
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event_type = models.CharField(max_length=40)
    # {"type": ..., "timestamp": ..., "data": {...}}: the body sent on every attempt.
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    # The `webhook-id` header: the same on every retry (and redelivery) of this delivery.
    msg_id = models.CharField(max_length=64)
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Failed attempts since it was (re)queued: the position in the retry schedule.
    retries = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=None, null=True, blank=True)
    # When it last entered QUEUED or SENDING: lets the poller recover lost messages/workers.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    completed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # Not a column: until when (time.monotonic()) the rate-limit slot a worker took for this
    # claimed delivery may be used (webhooks.claims).
    slot_expires_at: float | None = None

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # send_due_deliveries: `WHERE status = 'pending' AND next_attempt_at <= now()
            # ORDER BY next_attempt_at`; finished deliveries (the bulk) stay out of it.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending_due",
                condition=models.Q(status="pending"),
            ),
            # The poller's recovery of lost messages and workers.
            models.Index(
                fields=["claimed_at"],
                name="delivery_in_flight",
                condition=models.Q(status__in=["queued", "sending"]),
            ),
            # The delivery log: `WHERE endpoint_id = %s [AND status = %s] ORDER BY created_at DESC`.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_log"),
            # The drain's next delivery: `WHERE endpoint_id = %s AND status = 'waiting'
            # ORDER BY id LIMIT 1`, and the poller's endpoints with a backlog.
            models.Index(
                fields=["endpoint", "id"],
                name="delivery_waiting",
                condition=models.Q(status="waiting"),
            ),
            # The retention sweep: finished deliveries by completion time.
            models.Index(
                fields=["completed_at"],
                name="delivery_finished",
                condition=models.Q(status__in=["succeeded", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class Recovery(models.Model):
    """A request to send again an endpoint's unsucceeded deliveries of a window
    (webhooks.recovery); its progress is read from those deliveries."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)
    # How many deliveries it sent again.
    count = models.PositiveIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    # Not a column: the API sets it (webhooks.recovery.progress) before serializing.
    progress: RecoveryProgress

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "recoveries"

    def __str__(self) -> str:
        return f"recovery {self.id} of endpoint {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One HTTP request (pretix-style): what came back, how long it took, or why it failed."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    # Denormalised from the delivery: the list's "last result" per endpoint reads one index.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    success = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [
            # The list's "last result": `WHERE endpoint_id = %s ORDER BY attempted_at DESC LIMIT 1`.
            models.Index(fields=["endpoint", "-attempted_at"], name="attempt_endpoint_latest"),
            # The delivery log's attempts of one page of deliveries.
            models.Index(fields=["delivery", "attempted_at"], name="attempt_delivery"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.id} of delivery {self.delivery_id}"


class EndpointHealth(models.Model):
    """What one endpoint's receiver answered during one time bucket (webhooks.health writes and
    reads these rollups, so the endpoints list never reads the deliveries or their attempts).
    Deleted with the delivery history (webhooks.retention)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The bucket's start: attempted_at rounded down to webhooks.health.BUCKET.
    bucket_start = models.DateTimeField()
    # HTTP attempts (a retried delivery counts each) and those not answered 2xx.
    attempts = models.PositiveIntegerField(default=0)
    attempts_failed = models.PositiveIntegerField(default=0)
    # Deliveries an attempt of this bucket ended (test deliveries are not counted).
    deliveries_succeeded = models.PositiveIntegerField(default=0)
    deliveries_failed = models.PositiveIntegerField(default=0)
    # The response-time histogram: attempts answered in at most <n> ms (and more than the
    # bound before), then those slower than the last bound. A column each, so the list sums
    # plain columns; webhooks.health reads the bounds from these names.
    latency_le_5 = models.PositiveIntegerField(default=0)
    latency_le_10 = models.PositiveIntegerField(default=0)
    latency_le_25 = models.PositiveIntegerField(default=0)
    latency_le_50 = models.PositiveIntegerField(default=0)
    latency_le_75 = models.PositiveIntegerField(default=0)
    latency_le_100 = models.PositiveIntegerField(default=0)
    latency_le_150 = models.PositiveIntegerField(default=0)
    latency_le_200 = models.PositiveIntegerField(default=0)
    latency_le_300 = models.PositiveIntegerField(default=0)
    latency_le_500 = models.PositiveIntegerField(default=0)
    latency_le_750 = models.PositiveIntegerField(default=0)
    latency_le_1000 = models.PositiveIntegerField(default=0)
    latency_le_1500 = models.PositiveIntegerField(default=0)
    latency_le_2000 = models.PositiveIntegerField(default=0)
    latency_le_3000 = models.PositiveIntegerField(default=0)
    latency_le_5000 = models.PositiveIntegerField(default=0)
    latency_le_7500 = models.PositiveIntegerField(default=0)
    latency_le_10000 = models.PositiveIntegerField(default=0)
    latency_over = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "endpoint health"
        constraints = [
            # The writer's upsert target; also serves the list's window sums
            # (`WHERE endpoint_id = ANY(%s) AND bucket_start > %s`). No other index: the
            # writer's updates stay HOT.
            models.UniqueConstraint(
                fields=["endpoint", "bucket_start"], name="endpoint_health_bucket"
            ),
        ]

    def __str__(self) -> str:
        return f"health of endpoint {self.endpoint_id} from {self.bucket_start:%Y-%m-%d %H:%M}"


class EndpointLastResult(models.Model):
    """An endpoint's last success and last failure (webhooks.health): one row per endpoint
    that got an attempt, read by its primary key; kept as long as the endpoint."""

    endpoint = models.OneToOneField(
        WebhookEndpoint, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # Why the last failure failed ("HTTP 503", "Timed out", ...).
    last_failure_error = models.CharField(max_length=500, blank=True, default="")

    def __str__(self) -> str:
        return f"last results of endpoint {self.endpoint_id}"
