"""The delivery log's filters (API): by endpoint, status, event type and creation time."""

from __future__ import annotations

import django_filters

from acme.lib.instants import InstantFilter
from webhooks.models import TEST_EVENT_TYPE, Delivery, EventType


class DeliveryFilter(django_filters.FilterSet):
    endpoint = django_filters.NumberFilter(field_name="endpoint_id")
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices)
    event_type = django_filters.ChoiceFilter(
        choices=[*EventType.choices, (TEST_EVENT_TYPE, TEST_EVENT_TYPE)]
    )
    # Both served by delivery_endpoint_log when an endpoint is given.
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields = ["endpoint", "status", "event_type", "created_after", "created_before"]
