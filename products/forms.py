from __future__ import annotations

from django import forms

from products import services
from products.text_rules import validate_multi_line_text, validate_single_line_text


class ProductForm(forms.Form):
    """Create/edit input. Writes go through products.services; the view maps its errors back."""

    sku = forms.CharField(
        label="SKU",
        max_length=services.SKU_MAX_LENGTH,
        help_text="Unique, case-insensitively (ABC-1 and abc-1 are the same SKU).",
        validators=[validate_single_line_text],
    )
    name = forms.CharField(
        label="Name", max_length=services.NAME_MAX_LENGTH, validators=[validate_single_line_text]
    )
    description = forms.CharField(
        label="Description",
        widget=forms.Textarea,
        required=False,
        validators=[validate_multi_line_text],
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, product=None, **kwargs):
        self.product = product
        super().__init__(*args, **kwargs)

    def clean_sku(self) -> str:
        sku = services.normalize_sku(self.cleaned_data["sku"])
        if not sku:
            raise forms.ValidationError("SKU is required.")
        exclude_id = self.product.pk if self.product else None
        try:
            return services.sku_available(sku=sku, exclude_id=exclude_id)
        except services.ProductSkuTaken as error:
            raise forms.ValidationError(error.message) from error


class DeleteAllForm(forms.Form):
    """The typed confirmation: DELETE, or the number of products shown in the dialog."""

    confirm = forms.CharField(label="Type DELETE to confirm", required=False)

    def __init__(self, *args, expected_count: int | None = None, **kwargs):
        self.expected_count = expected_count
        super().__init__(*args, **kwargs)

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip().replace(",", "")
        accepted = {"DELETE"}
        if self.expected_count is not None:
            accepted.add(str(self.expected_count))
        if typed not in accepted:
            raise forms.ValidationError("Type DELETE to confirm deleting every product.")
        return typed
