"""The filters of a job's change set, shared by the API, the job page and the download."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.db.models.functions import Lower

from imports.models import ImportChange

# The order a job's changes are listed in (page, API, download, conflicts): by kind, then
# SKU, as importchange_job_kind_sku reads them (no sort).
LISTING_ORDER = ("kind", Lower("sku"), "id")


def sku_is(queryset: QuerySet[ImportChange], sku: str) -> QuerySet[ImportChange]:
    """`lower(sku) = lower(value)`, served by importchange_job_kind_sku: every kind is
    named, so without a kind chosen the index is probed once per kind (its second column)
    instead of read through for the whole job."""
    sku = sku.strip()
    if not sku:
        return queryset
    return (
        queryset.filter(kind__in=ImportChange.Kind.values)
        .alias(sku_lower=Lower("sku"))
        .filter(sku_lower=sku.lower())
    )


class ImportChangeFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=ImportChange.Kind.choices, help_text="Only changes of this kind."
    )
    sku = django_filters.CharFilter(
        method="filter_sku", help_text="Only the product with this SKU, in any letter case."
    )

    class Meta:
        model = ImportChange
        fields = ["kind", "sku"]

    def filter_sku(self, queryset, name, value):
        return sku_is(queryset, value)
