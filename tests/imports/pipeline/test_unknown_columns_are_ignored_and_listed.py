import pytest

from products.models import Product


@pytest.mark.django_db
def test_unknown_columns_are_ignored_and_listed(import_bytes):
    imported = import_bytes("sku,Price, colour ,name\na,9.99,red,Alpha\n")

    assert imported.result.unknown_columns == ["Price", "colour"]
    product = Product.objects.get()
    assert (product.sku, product.name) == ("a", "Alpha")
