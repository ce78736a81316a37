import datetime

import pytest

from products.models import Product
from tests.imports.pipeline.conftest import catalogue


@pytest.mark.django_db
def test_validate_only_reports_would_be_counts_and_changes_nothing(import_bytes):
    Product.objects.create(sku="same", name="Same", description="")
    Product.objects.create(sku="changes", name="Before", description="")
    Product.objects.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    before = catalogue()

    imported = import_bytes(
        "sku,name\nsame,Same\nchanges,After\nnew-1,New\n,rejected\n", validate_only=True
    )

    result = imported.result
    assert result.validate_only
    assert (result.created, result.updated, result.unchanged, result.rows_rejected) == (1, 1, 1, 1)
    assert imported.report_rows[1][:3] == ["4", "5", "sku is empty"]
    assert catalogue() == before
