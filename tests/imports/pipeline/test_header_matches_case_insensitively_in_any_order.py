import pytest

from products.models import Product


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        "sku,name,description",
        "SKU,Name,DESCRIPTION",
        " Description , sKu ,NAME ",
        "name,description,sku",
    ],
)
def test_header_variants_are_matched(import_bytes, header):
    columns = [c.strip().lower() for c in header.split(",")]
    values = {"sku": "a-1", "name": "Alpha", "description": "First"}
    row = ",".join(values[c] for c in columns)

    imported = import_bytes(f"{header}\n{row}\n")

    assert imported.result.created == 1
    product = Product.objects.get()
    assert (product.sku, product.name, product.description) == ("a-1", "Alpha", "First")


@pytest.mark.django_db
@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters(import_bytes, delimiter):
    data = delimiter.join(["sku", "name", "description"]) + "\n"
    data += delimiter.join(["a-1", "Alpha, with comma", '"quoted' + delimiter + 'value"']) + "\n"

    import_bytes(data, delimiter=delimiter)

    product = Product.objects.get()
    assert product.name == "Alpha, with comma"
    assert product.description == f"quoted{delimiter}value"


@pytest.mark.django_db
def test_description_is_optional(import_bytes):
    import_bytes("name,sku\nAlpha,a-1\n")

    assert Product.objects.get().description == ""


@pytest.mark.django_db
def test_blank_lines_before_the_header_are_skipped(import_bytes):
    imported = import_bytes("\n\nsku,name\na,A\n")

    assert imported.result.created == 1
