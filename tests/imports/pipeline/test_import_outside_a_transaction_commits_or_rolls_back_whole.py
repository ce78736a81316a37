import pytest

from imports.pipeline import ImportFailed
from products.models import Product


@pytest.mark.django_db(transaction=True)
def test_import_outside_a_transaction_commits(import_bytes):
    imported = import_bytes("sku,name\na,A\nb,B\n")

    assert imported.result.created == 2
    assert Product.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_failed_import_outside_a_transaction_leaves_nothing_behind(import_bytes):
    Product.objects.create(sku="a", name="Before")

    with pytest.raises(ImportFailed):
        import_bytes("sku,name\na,After\n,rejected\n", strict=True)

    assert list(Product.objects.values_list("sku", "name")) == [("a", "Before")]
    # The connection is usable and the staging table gone: the next import runs.
    assert import_bytes("sku,name\na,After\n").result.updated == 1
