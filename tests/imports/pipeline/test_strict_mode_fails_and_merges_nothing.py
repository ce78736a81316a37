import pytest

from imports.pipeline import ImportFailed
from products.models import Product


@pytest.mark.django_db
def test_strict_mode_fails_on_any_rejection_and_merges_nothing(import_bytes):
    Product.objects.create(sku="keep", name="Kept")

    with pytest.raises(ImportFailed) as failure:
        import_bytes("sku,name\na,A\n,missing sku\nkeep,Changed\nb,\n", strict=True)

    assert str(failure.value) == (
        "strict mode: 2 records rejected (first: record 2, line 3: sku is empty)"
    )
    assert failure.value.result.rows_rejected == 2
    assert list(Product.objects.values_list("sku", "name")) == [("keep", "Kept")]


@pytest.mark.django_db
def test_strict_mode_without_rejections_imports(import_bytes):
    imported = import_bytes("sku,name\na,A\n", strict=True)

    assert imported.result.created == 1
    assert Product.objects.count() == 1
