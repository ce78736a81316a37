"""The catalogue's filters, shared by the API, the list page and the export.

Every case-insensitive lookup is written as `lower(col) = value` or `lower(col) LIKE '%value%'`
so the indexes in products/models.py serve it (Django's iexact/icontains compile to UPPER(...),
which none of them can serve).
"""

from __future__ import annotations

import django_filters
from django.db.models import OrderBy, Q, QuerySet
from django.db.models.functions import Lower

from products.models import Product

ORDERINGS: dict[str, tuple[str | OrderBy, ...]] = {
    # param value -> ORDER BY, each ending in a unique column so pages never overlap.
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "sku": (Lower("sku").asc(),),  # product_sku_lower_unique
    "-sku": (Lower("sku").desc(),),
    "updated_at": ("updated_at", "id"),  # product_updated_at_id
    "-updated_at": ("-updated_at", "-id"),
}
ORDERING_LABELS = {
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
    "sku": "SKU (A–Z)",
    "-sku": "SKU (Z–A)",
    "-updated_at": "Recently updated",
    "updated_at": "Least recently updated",
}


def lower_contains(field: str, value: str) -> Q:
    """`lower(field) LIKE '%value%'`, served by the field's GIN trigram index."""
    return Q(**{f"{field}_lower__contains": value.lower()})


def with_lower_aliases(queryset: QuerySet) -> QuerySet:
    return queryset.alias(
        sku_lower=Lower("sku"), name_lower=Lower("name"), description_lower=Lower("description")
    )


class CatalogueOrderingFilter(django_filters.OrderingFilter):
    """`ordering=name|sku|updated_at` (prefix `-` to reverse); sku sorts case-insensitively."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "fields", (("name", "name"), ("sku", "sku"), ("updated_at", "updated_at"))
        )
        kwargs.setdefault("field_labels", {"updated_at": "Updated"})
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        order_by: list[str | OrderBy] = []
        for param in value:
            order_by.extend(ORDERINGS.get(param, ()))
        return queryset.order_by(*order_by) if order_by else queryset


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(
        method="filter_sku", label="SKU", help_text="Case-insensitive exact SKU."
    )
    name = django_filters.CharFilter(
        method="filter_name", label="Name", help_text="Case-insensitive contains."
    )
    description = django_filters.CharFilter(
        method="filter_description",
        label="Description",
        help_text="Case-insensitive contains.",
    )
    # A choice, not a BooleanFilter: an unknown value ("maybe") is a 400, not silently ignored.
    active = django_filters.TypedChoiceFilter(
        field_name="active",
        label="Active",
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        help_text="true: active products only; false: inactive only.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        help_text="Case-insensitive contains in any of SKU, name or description.",
    )
    ordering = CatalogueOrderingFilter(
        label="Ordering", help_text="name, sku or updated_at; prefix '-' to reverse."
    )

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "active", "search"]

    def filter_queryset(self, queryset):
        return super().filter_queryset(with_lower_aliases(queryset))

    def filter_sku(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(sku_lower=value.lower()) if value else queryset

    def filter_name(self, queryset, name, value):
        return queryset.filter(lower_contains("name", value)) if value else queryset

    def filter_description(self, queryset, name, value):
        return queryset.filter(lower_contains("description", value)) if value else queryset

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            lower_contains("sku", value)
            | lower_contains("name", value)
            | lower_contains("description", value)
        )
