"""The `data` of the events webhooks sends about itself; built with these serializers and
documented from them (webhooks.payload_schema).

The operational events go to every endpoint subscribed to them, so they name the endpoint they
are about by id, scheme and host, and description, never by its URL: a hook URL's path or
query often carries a credential. The same goes for the texts that may quote it (an error).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from rest_framework import serializers

# Any absolute URL quoted in an error text (requests and urllib3 quote the one they failed on).
_QUOTED_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>()]+")
# urllib3's "Max retries exceeded with url: /path?query" quotes the path alone.
_QUOTED_PATH = re.compile(r"(\burl: )\S+")
REDACTED = "[redacted]"


def url_origin(url: str) -> str:
    """`scheme://host[:port]` of `url`, without user info, path, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def without_urls(text: str, url: str) -> str:
    """`text` with `url` (and its path and query, and any other URL) cut down to origins."""
    parts = urlsplit(url)
    text = text.replace(url, url_origin(url))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path not in ("", "/"):
        text = text.replace(path, REDACTED)
    text = _QUOTED_URL.sub(lambda match: url_origin(match.group(0)), text)
    return _QUOTED_PATH.sub(rf"\g<1>{REDACTED}", text)


class TestEventData(serializers.Serializer):
    """Sent by "Send test" (page, API, admin) only; endpoints cannot subscribe to it."""

    endpoint_id = serializers.IntegerField()
    message = serializers.CharField()


class EndpointDisabledEventData(serializers.Serializer):
    """`webhook.endpoint_disabled`: the system turned an endpoint off."""

    endpoint_id = serializers.IntegerField(source="id")
    endpoint_host = serializers.SerializerMethodField(
        help_text="The endpoint's scheme and host (`https://hooks.example.com`); never its "
        "path or query, which may carry a credential."
    )
    endpoint_description = serializers.CharField(source="description", allow_blank=True)
    reason = serializers.SerializerMethodField(help_text="Why, without the endpoint's URL.")
    disabled_at = serializers.DateTimeField()
    consecutive_failures = serializers.IntegerField(
        help_text="Failed deliveries in a row when it was disabled."
    )

    def get_endpoint_host(self, endpoint) -> str:
        return url_origin(endpoint.url)

    def get_reason(self, endpoint) -> str:
        return without_urls(endpoint.disabled_reason, endpoint.url)


class DeliveryExhaustedEventData(serializers.Serializer):
    """`webhook.delivery_exhausted`: a delivery used up its retries without success."""

    delivery_id = serializers.IntegerField(source="id")
    msg_id = serializers.CharField(help_text="Its `webhook-id`.")
    endpoint_id = serializers.IntegerField()
    endpoint_host = serializers.SerializerMethodField(
        help_text="The endpoint's scheme and host (`https://hooks.example.com`); never its "
        "path or query, which may carry a credential."
    )
    endpoint_description = serializers.CharField(source="endpoint.description", allow_blank=True)
    event_type = serializers.CharField()
    attempts = serializers.IntegerField(source="attempts.count")
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.SerializerMethodField(help_text="Without the endpoint's URL.")
    failed_at = serializers.DateTimeField(source="completed_at")

    def get_endpoint_host(self, delivery) -> str:
        return url_origin(delivery.endpoint.url)

    def get_last_error(self, delivery) -> str:
        return without_urls(delivery.last_error, delivery.endpoint.url)
