"""Every event's payload in the OpenAPI schema (3.1 `webhooks`), so receivers can generate types.

Each event's `data` is documented from the serializer its payload builder uses (named below),
inside the envelope `events.make_payload` writes: `{"type", "timestamp", "data"}`. A test
checks every EventType is here and that real payloads validate against the schema.
"""

from __future__ import annotations

import re

from django.utils.module_loading import import_string
from drf_spectacular.utils import (
    OpenApiResponse,
    OpenApiWebhook,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers

from webhooks.models import TEST_EVENT_TYPE, EventType

# Event type -> the serializer that builds its `data` (import paths: the apps that emit
# events import webhooks, not the other way round).
EVENT_DATA_SERIALIZERS: dict[str, str] = {
    EventType.PRODUCT_CREATED: "products.event_data.ProductEventData",
    EventType.PRODUCT_UPDATED: "products.event_data.ProductEventData",
    EventType.PRODUCT_DELETED: "products.event_data.ProductEventData",
    EventType.PRODUCTS_DELETED_ALL: "products.event_data.ProductsDeletedAllEventData",
    EventType.IMPORT_COMPLETED: "imports.event_data.ImportEventData",
    EventType.IMPORT_FAILED: "imports.event_data.ImportEventData",
    EventType.IMPORT_REVERTED: "imports.event_data.ImportEventData",
    EventType.WEBHOOK_ENDPOINT_DISABLED: "webhooks.event_data.EndpointDisabledEventData",
    EventType.WEBHOOK_DELIVERY_EXHAUSTED: "webhooks.event_data.DeliveryExhaustedEventData",
    TEST_EVENT_TYPE: "webhooks.event_data.TestEventData",
}

EVENT_DESCRIPTIONS: dict[str, str] = {
    EventType.PRODUCT_CREATED: "A product was created (page, API or admin; not by imports).",
    EventType.PRODUCT_UPDATED: "A product was changed (page, API or admin; not by imports).",
    EventType.PRODUCT_DELETED: "A product was deleted; `data` is the product as it was.",
    EventType.PRODUCTS_DELETED_ALL: "Every product was deleted at once.",
    EventType.IMPORT_COMPLETED: "A CSV import finished and its products are in the catalogue.",
    EventType.IMPORT_FAILED: "A CSV import (or a revert) failed; the catalogue is unchanged.",
    EventType.IMPORT_REVERTED: "An import (or a delete-all) was taken back: `reverts` is its "
    "id; `restored`, `deleted` and `conflicts` say what the revert did (a product changed since "
    "the import is a conflict, left as it is unless the revert was forced).",
    EventType.WEBHOOK_ENDPOINT_DISABLED: "Operational: the system disabled an endpoint (it "
    "answered 410 Gone, or WEBHOOKS_DISABLE_AFTER_FAILURES deliveries failed in a row). Enable "
    "it again once its receiver works.",
    EventType.WEBHOOK_DELIVERY_EXHAUSTED: "Operational: a delivery used up its retries (about 18 "
    "hours) without success; redeliver it once the receiver works. Not sent about deliveries "
    "of operational events.",
    TEST_EVENT_TYPE: 'A test delivery asked for by a person ("Send test").',
}

# drf-spectacular's webhooks take no header parameters: the description names them.
SIGNATURE_HEADERS = """

Headers ([Standard Webhooks](https://www.standardwebhooks.com/)): `webhook-id` (the same on
every retry and redelivery: deduplicate on it), `webhook-timestamp` (Unix seconds when this
attempt was signed), `webhook-signature` (`v1,<base64>` signatures, space-separated: two while a
rotated secret's overlap lasts). Verify with any Standard Webhooks library."""


def envelope_serializer(event_type: str) -> serializers.Serializer:
    """The body of `event_type`'s deliveries: `type` (this event), `timestamp`, `data`."""
    data_serializer = import_string(EVENT_DATA_SERIALIZERS[event_type])
    type_field = extend_schema_field({"type": "string", "enum": [event_type]})(
        type("EventTypeField", (serializers.CharField,), {})
    )
    name = "".join(part.capitalize() for part in re.split(r"[._]", event_type)) + "Event"
    envelope = type(
        name,
        (serializers.Serializer,),
        {
            "type": type_field(),
            "timestamp": serializers.DateTimeField(help_text="When the event happened."),
            "data": data_serializer(),
        },
    )
    return envelope()


def event_webhooks() -> list[OpenApiWebhook]:
    return [
        OpenApiWebhook(
            name=event_type,
            decorator=extend_schema(
                summary=event_type,
                description=EVENT_DESCRIPTIONS[event_type] + SIGNATURE_HEADERS,
                request=envelope_serializer(event_type),
                responses={
                    200: OpenApiResponse(
                        description="Any 2xx acknowledges the delivery. 410 disables the "
                        "endpoint; 429 and 5xx (and timeouts) are retried; other codes fail it."
                    )
                },
            ),
        )
        # str(): the plain value, not the enum member (the YAML renderer cannot write those).
        for event_type in map(str, EVENT_DATA_SERIALIZERS)
    ]


# SPECTACULAR_SETTINGS["WEBHOOKS"] points here.
EVENT_WEBHOOKS = event_webhooks()
