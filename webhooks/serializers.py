from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import serializers

from webhooks import permissions
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


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False
    )
    rate_limit = serializers.IntegerField(min_value=1, max_value=MAX_RATE_LIMIT, default=60)
    secret = serializers.SerializerMethodField(
        help_text="The signing secret (read-only; rotate it with `rotate-secret`). Null unless "
        "the caller may change the endpoint: whoever holds it can forge deliveries."
    )

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
