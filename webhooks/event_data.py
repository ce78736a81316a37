"""The `data` of the events webhooks sends about itself; built with these serializers and
documented from them (webhooks.payload_schema)."""

from __future__ import annotations

from rest_framework import serializers


class TestEventData(serializers.Serializer):
    """Sent by "Send test" (page, API, admin) only; endpoints cannot subscribe to it."""

    endpoint_id = serializers.IntegerField()
    message = serializers.CharField()
