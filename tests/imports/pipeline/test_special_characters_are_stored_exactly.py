import pytest

from products.models import Product

# Control characters other than tab and line breaks are refused (products.text_rules).
TRICKY = 'back\\slash \\N \\. tab\there cr\rlf\r\nnl\n"quoted" ünï € \u200b\xa0'


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@pytest.mark.django_db
def test_backslashes_tabs_newlines_and_unicode_are_stored_exactly(import_bytes):
    description = TRICKY
    name = "name \\ with \\N and \u200b"

    import_bytes(f"sku,name,description\na-1,{_csv_cell(name)},{_csv_cell(description)}\n")

    product = Product.objects.get()
    assert (product.name, product.description) == (name, description)


@pytest.mark.django_db
def test_an_empty_description_is_stored_empty(import_bytes):
    import_bytes('sku,name,description\na,A,\nb,B,""\n')

    assert set(Product.objects.values_list("description", flat=True)) == {""}


@pytest.mark.django_db
def test_a_record_with_a_nul_character_is_rejected(import_bytes):
    imported = import_bytes(b"sku,name,description\na,A,fine\nb,B,bad\x00byte\n")

    assert imported.report_rows[1][:3] == [
        "2",
        "3",
        "description contains the control character U+0000 at position 4; remove it (tab and "
        "line breaks are allowed)",
    ]
    assert list(Product.objects.values_list("sku", flat=True)) == ["a"]
