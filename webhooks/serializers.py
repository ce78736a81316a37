from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webhooks import health, permissions
from webhooks.forms import MAX_RATE_LIMIT
from webhooks.models import (
    ROTATION_OVERLAP_HOURS_DEFAULT,
    ROTATION_OVERLAP_HOURS_MAX,
    Delivery,
    EventType,
    Recovery,
    WebhookEndpoint,
)
from webhooks.recovery import MAX_WINDOW, check_window
from webhooks.targets import TargetRefused, check_url

_WINDOW_HOURS = int(health.WINDOW.total_seconds() // 3600)


class EndpointHealthSerializer(serializers.Serializer):
    """The endpoint's last 24 hours (from its health rollups, in 5-minute buckets: the window
    is 24 h to 24 h 5 min long), and its last success and failure."""

    deliveries = serializers.IntegerField(
        help_text=f"Deliveries that ended in the last {_WINDOW_HOURS} h (succeeded, or failed for "
        "good), test deliveries aside."
    )
    deliveries_failed = serializers.IntegerField(
        help_text="Of those, how many failed for good (retries exhausted, 410, other 4xx...)."
    )
    attempts = serializers.IntegerField(
        help_text=f"Requests sent to the endpoint in the last {_WINDOW_HOURS} h; every retry "
        "and test counts."
    )
    attempts_failed = serializers.IntegerField(help_text="Of those, how many did not get a 2xx.")
    success_rate = serializers.FloatField(
        allow_null=True,
        help_text="The share of those requests answered 2xx, 0 to 1; null without requests.",
    )
    p50_ms = serializers.IntegerField(
        allow_null=True,
        help_text="Median response time in ms, estimated from a histogram (bounds: "
        f"{', '.join(map(str, health.LATENCY_BOUNDS_MS))} ms): it lies in the same bucket as "
        "the true value; null without requests.",
    )
    p95_ms = serializers.IntegerField(
        allow_null=True, help_text="95th percentile of the response time in ms, estimated likewise."
    )
    last_success_at = serializers.DateTimeField(
        allow_null=True, help_text="When a request was last answered 2xx."
    )
    last_failure_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a request last failed (no 2xx, or no answer).",
    )
    last_failure_error = serializers.CharField(
        help_text='Why it failed: "HTTP 503", "Timed out", "Connection failed: ..."'
    )


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False
    )
    rate_limit = serializers.IntegerField(min_value=1, max_value=MAX_RATE_LIMIT, default=60)
    secret = serializers.SerializerMethodField(
        help_text="The signing secret (read-only; rotate it with `rotate-secret`). Null unless "
        "the caller may change the endpoint: whoever holds it can forge deliveries."
    )
    health = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "rate_limit",
            "secret",
            "previous_secret_expires_at",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "last_exhausted_at",
            "last_exhausted_error",
            "health",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "secret",
            "previous_secret_expires_at",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "last_exhausted_at",
            "last_exhausted_error",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(EndpointHealthSerializer)
    def get_health(self, endpoint: WebhookEndpoint) -> dict:
        """From `health_by_endpoint` in the context (a page's, read at once by the list), else
        read for this endpoint alone."""
        found = self.context.get("health_by_endpoint")
        if found is None or endpoint.pk not in found:
            found = health.for_endpoints([endpoint.pk])
        return EndpointHealthSerializer(found.get(endpoint.pk, health.Health())).data

    def get_secret(self, endpoint: WebhookEndpoint) -> str | None:
        request = self.context.get("request")
        if request is None or not request.user.has_perm(permissions.CHANGE):
            return None
        return endpoint.secret

    def validate_url(self, url: str) -> str:
        try:
            check_url(url)
        except TargetRefused as error:
            raise serializers.ValidationError(str(error)) from None
        return url


class RotateSecretSerializer(serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        min_value=0,
        max_value=ROTATION_OVERLAP_HOURS_MAX,
        default=ROTATION_OVERLAP_HOURS_DEFAULT,
        help_text="Hours the replaced secret keeps signing next to the new one (every delivery "
        "then carries both signatures); 0 replaces it at once.",
    )


class DeliveryResultSerializer(serializers.ModelSerializer):
    """A delivery's state and last result, never the receiver's response body."""

    final = serializers.BooleanField(source="is_final", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "endpoint",
            "event_type",
            "msg_id",
            "is_test",
            "status",
            "final",
            "retries",
            "last_status_code",
            "last_duration_ms",
            "last_error",
            "next_attempt_at",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class RecoverSerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        help_text="Send again the deliveries created at or after this time (ISO 8601)."
    )
    until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=f"…and before this time (default: now); at most {MAX_WINDOW.days} days after "
        "`since`.",
    )

    def validate(self, attrs: dict) -> dict:
        try:
            check_window(attrs["since"], attrs.get("until"))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs


class RecoverySerializer(serializers.ModelSerializer):
    """A recovery and its progress (read from its deliveries)."""

    remaining = serializers.IntegerField(source="progress.remaining", read_only=True)
    succeeded = serializers.IntegerField(source="progress.succeeded", read_only=True)
    not_succeeded = serializers.IntegerField(
        source="progress.not_succeeded",
        read_only=True,
        help_text="Sent again and failed again (failed, or waiting for a retry).",
    )
    done = serializers.BooleanField(source="progress.done", read_only=True)
    progress_url = serializers.SerializerMethodField()

    class Meta:
        model = Recovery
        fields = [
            "id",
            "endpoint",
            "since",
            "until",
            "count",
            "remaining",
            "succeeded",
            "not_succeeded",
            "done",
            "created_at",
            "progress_url",
        ]
        read_only_fields = fields

    def get_progress_url(self, recovery: Recovery) -> str:
        path = reverse("webhook-recovery", args=[recovery.endpoint_id, recovery.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
