"""The `data` of the catalogue's webhook events. product_payload() builds it with these
serializers and the OpenAPI schema documents it from them (webhooks.payload_schema), so
what receivers are told and what they get cannot drift apart."""

from __future__ import annotations

from rest_framework import serializers


class ProductEventData(serializers.Serializer):
    """The product as the API shows it (for `product.deleted`: as it was before)."""

    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class ProductsDeletedAllEventData(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many products were deleted.")
