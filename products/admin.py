"""The back-office for products: writes go through products.services, so webhooks fire."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect

from products import services
from products.counting import CataloguePaginator
from products.filters import lower_contains, with_lower_aliases
from products.models import Product
from products.text_rules import validate_multi_line_text, validate_single_line_text

# Bulk status changes emit one product.updated event per product; beyond this, use the API.
MAX_ACTION_SELECTION = 1000


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "description", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field, validator in (
            ("sku", validate_single_line_text),
            ("name", validate_single_line_text),
            ("description", validate_multi_line_text),
        ):
            if field in self.fields:  # a view-only user's form has none
                self.fields[field].validators.append(validator)

    def clean_sku(self) -> str:
        try:
            return services.sku_available(sku=self.cleaned_data["sku"], exclude_id=self.instance.pk)
        except services.ProductSkuTaken as error:
            raise forms.ValidationError(error.message) from error


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["sku", "name", "active", "updated_at"]
    list_display_links = ["sku", "name"]
    list_filter = ["active"]
    search_fields = ["sku", "name"]
    search_help_text = "Case-insensitive: part of the SKU or the name."
    readonly_fields = ["created_at", "updated_at"]
    actions = ["activate", "deactivate"]

    # A write that gave up waiting for the catalogue (an import is merging) is a message on
    # the same page, not a server error; its transaction has been rolled back.
    def changeform_view(self, request, *args, **kwargs):
        return self._unless_busy(request, super().changeform_view, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._unless_busy(request, super().delete_view, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        return self._unless_busy(request, super().changelist_view, *args, **kwargs)

    def _unless_busy(self, request, view, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except services.CatalogueBusy as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # No COUNT(*) of the whole table on every changelist at 500k rows; counts of a filtered
    # changelist are exact up to counting.EXACT_COUNT_LIMIT, then estimated.
    show_full_result_count = False
    paginator = CataloguePaginator
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        """`lower(sku|name) LIKE '%term%'` (trigram-indexed), not Django's UPPER(...) LIKE."""
        search_term = search_term.strip()
        if not search_term:
            return queryset, False
        queryset = with_lower_aliases(queryset).filter(
            lower_contains("sku", search_term) | lower_contains("name", search_term)
        )
        return queryset, False

    def save_model(self, request, obj, form, change):
        if change:
            product = Product.objects.get(pk=obj.pk)
            changes = {field: form.cleaned_data[field] for field in form.changed_data}
            product = services.product_update(product=product, **changes)
        else:
            product = services.product_create(
                **{field: form.cleaned_data[field] for field in ProductAdminForm.Meta.fields}
            )
        # The admin goes on with `obj` (log entry, redirect): make it the saved row.
        obj.pk = product.pk
        obj.created_at, obj.updated_at = product.created_at, product.updated_at

    def delete_model(self, request, obj):
        services.product_delete(product=obj)

    def delete_queryset(self, request, queryset):
        for product in queryset:
            services.product_delete(product=product)

    def _set_active(self, request, queryset, active: bool) -> None:
        selected = list(queryset.filter(~Q(active=active))[: MAX_ACTION_SELECTION + 1])
        if len(selected) > MAX_ACTION_SELECTION:
            self.message_user(
                request,
                f"Select at most {MAX_ACTION_SELECTION:,} products to change at once.",
                messages.ERROR,
            )
            return
        for product in selected:
            services.product_set_active(product=product, active=active)
        state = "active" if active else "inactive"
        self.message_user(request, f"{len(selected):,} products marked {state}.")

    @admin.action(description="Activate selected products", permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)
