import pytest

from products.models import Product

TRICKY = 'back\\slash \\N \\. tab\there cr\rlf\r\nnl\n"quoted" \x01 \x03 ünï €'


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@pytest.mark.django_db
@pytest.mark.parametrize("with_separators", [False, True])
def test_backslashes_tabs_newlines_and_control_characters_are_stored_exactly(
    import_bytes, with_separators
):
    description = TRICKY if with_separators else TRICKY.replace("\x01", "").replace("\x03", "")
    name = "name \\ with\ttab"

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
        "contains a NUL character, which cannot be stored",
    ]
    assert list(Product.objects.values_list("sku", flat=True)) == ["a"]
