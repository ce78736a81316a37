from __future__ import annotations

from datetime import tzinfo
from functools import cached_property
from typing import Any, NoReturn

from rest_framework import ISO_8601, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings

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

    def to_representation(self, instance: Product | dict[str, Any]) -> dict[str, Any]:
        """DRF's representation of a product without its per-field machinery (a full read of
        the catalogue serializes 500,000): model values as they are; datetimes as DRF's
        DateTimeField writes them (in the field's time zone, ISO 8601, +00:00 as Z), with the
        time zone looked up once per serializer instead of twice per row. `instance` may be
        a row as a dict (cursor pages read `.values()`)."""
        if isinstance(instance, dict):
            representation = {name: instance[name] for name, _ in self._readers}
        else:
            representation = {name: getattr(instance, name) for name, _ in self._readers}
        for name, in_zone in self._datetimes:
            value = representation[name]
            if value is not None:
                value = value.astimezone(in_zone).isoformat()
                representation[name] = value[:-6] + "Z" if value.endswith("+00:00") else value
        return representation

    @cached_property
    def _datetimes(self) -> list[tuple[str, tzinfo]]:
        return [(name, in_zone) for name, in_zone in self._readers if in_zone is not None]

    @cached_property
    def _readers(self) -> list[tuple[str, tzinfo | None]]:
        """(field name, time zone for a datetime field else None), readable fields in order."""
        readers: list[tuple[str, tzinfo | None]] = []
        for name, field in self.fields.items():
            if field.write_only:
                continue
            if isinstance(field, serializers.DateTimeField):
                if getattr(field, "format", api_settings.DATETIME_FORMAT) != ISO_8601:
                    raise ValueError(f"{name}: only ISO 8601 datetimes are written here")
                readers.append((name, field.timezone if hasattr(field, "timezone") else
                                field.default_timezone()))  # fmt: skip
            else:
                readers.append((name, None))
        return readers

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
