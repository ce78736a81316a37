import pytest

from imports.pipeline import ImportFailed
from products.models import Product


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,description", "missing required column: sku"),
        ("sku,description", "missing required column: name"),
        ("description,price", "missing required columns: sku, name"),
    ],
)
def test_missing_required_column_fails_at_once_naming_it(import_bytes, header, message):
    with pytest.raises(ImportFailed, match=f"^{message} "):
        import_bytes(f"{header}\nx,y\n")

    assert not Product.objects.exists()


@pytest.mark.django_db
def test_a_column_named_twice_fails(import_bytes):
    with pytest.raises(ImportFailed, match="the header names the column sku twice"):
        import_bytes("sku,name,SKU\na,A,b\n")
