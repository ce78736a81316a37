"""The `data` of the events webhooks sends about itself; built with these serializers and
documented from them (webhooks.payload_schema)."""

from __future__ import annotations

from rest_framework import serializers


class TestEventData(serializers.Serializer):
    """Sent by "Send test" (page, API, admin) only; endpoints cannot subscribe to it."""

    endpoint_id = serializers.IntegerField()
    message = serializers.CharField()


class EndpointDisabledEventData(serializers.Serializer):
    """`webhook.endpoint_disabled`: the system turned an endpoint off."""

    endpoint_id = serializers.IntegerField(source="id")
    url = serializers.URLField()
    reason = serializers.CharField(source="disabled_reason")
    disabled_at = serializers.DateTimeField()
    consecutive_failures = serializers.IntegerField(
        help_text="Failed deliveries in a row when it was disabled."
    )


class DeliveryExhaustedEventData(serializers.Serializer):
    """`webhook.delivery_exhausted`: a delivery used up its retries without success."""

    delivery_id = serializers.IntegerField(source="id")
    msg_id = serializers.CharField(help_text="Its `webhook-id`.")
    endpoint_id = serializers.IntegerField()
    url = serializers.URLField(source="endpoint.url")
    event_type = serializers.CharField()
    attempts = serializers.IntegerField(source="attempts.count")
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    failed_at = serializers.DateTimeField(source="completed_at")
