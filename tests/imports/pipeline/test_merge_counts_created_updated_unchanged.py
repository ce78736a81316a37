import datetime

import pytest

from products.models import Product

LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_merge_counts_come_from_the_database_and_unchanged_rows_keep_updated_at(import_bytes):
    Product.objects.create(sku="same", name="Same", description="d", active=False)
    Product.objects.create(sku="renamed", name="Old name", description="d")
    Product.objects.create(sku="CASE", name="Case", description="d")
    Product.objects.create(sku="untouched", name="Not in file", description="d")
    Product.objects.update(updated_at=LONG_AGO)

    imported = import_bytes(
        "sku,name,description\n"
        "same,Same,d\n"  # no active column: keeps active=False, unchanged
        "renamed,New name,d\n"
        "case,Case,d\n"  # the sku's letter case changes: an update
        "new-1,New,d\n"
    )

    result = imported.result
    assert (result.created, result.updated, result.unchanged) == (1, 2, 1)
    products = {p.sku: p for p in Product.objects.all()}
    assert products["same"].updated_at == LONG_AGO
    assert products["same"].active is False
    assert products["untouched"].updated_at == LONG_AGO
    assert products["renamed"].name == "New name"
    assert products["renamed"].updated_at > LONG_AGO
    assert products["case"].updated_at > LONG_AGO
    assert products["new-1"].active is True
