from __future__ import annotations

from functools import cached_property
from typing import Any, NoReturn

from rest_framework import serializers, status
from rest_framework.exceptions import APIException

from products import services
from products.models import Product
from products.text_rules import validate_multi_line_text, validate_single_line_text


class CatalogueBusy(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "catalogue_busy"


def raise_as_validation_error(error: services.ProductError) -> NoReturn:
    """A 400 naming the field at fault, or 409 when the catalogue is busy (an import merging)."""
    if isinstance(error, services.CatalogueBusy):
        raise CatalogueBusy(error.message) from error
    raise serializers.ValidationError({error.field or "non_field_errors": [error.message]})


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "description", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            "sku": {"validators": [validate_single_line_text]},
            "name": {"validators": [validate_single_line_text]},
            "description": {"validators": [validate_multi_line_text]},
        }

    def to_representation(self, instance: Product) -> dict[str, Any]:
        """DRF's representation of a product without its per-field machinery (a full read of
        the catalogue serializes 500,000): model values as they are, datetimes through their
        DRF field (ISO 8601, UTC as Z)."""
        return {
            name: value if convert is None or value is None else convert(value)
            for name, convert, value in (
                (name, convert, getattr(instance, name)) for name, convert in self._readers
            )
        }

    @cached_property
    def _readers(self) -> list[tuple[str, Any]]:
        return [
            (
                name,
                field.to_representation if isinstance(field, serializers.DateTimeField) else None,
            )
            for name, field in self.fields.items()
            if not field.write_only
        ]

    def validate_sku(self, value: str) -> str:
        value = services.normalize_sku(value)
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        exclude_id = self.instance.pk if self.instance else None
        try:
            return services.sku_available(sku=value, exclude_id=exclude_id)
        except services.ProductSkuTaken as error:
            raise serializers.ValidationError(error.message) from error

    def create(self, validated_data: dict) -> Product:
        try:
            return services.product_create(**validated_data)
        except services.ProductError as error:
            raise_as_validation_error(error)

    def update(self, instance: Product, validated_data: dict) -> Product:
        try:
            return services.product_update(product=instance, **validated_data)
        except services.ProductError as error:
            raise_as_validation_error(error)


class DeleteAllSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        help_text="Must be true: deleting every product cannot be undone."
    )

    def validate_confirm(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError('Send {"confirm": true} to delete every product.')
        return value


class DeleteAllResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="How many products were deleted.")
