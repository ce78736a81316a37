import io

import pytest

from imports.pipeline import ImportCancelled, ImportOptions, run_import
from products.models import Product
from tests.imports.pipeline.conftest import catalogue


@pytest.mark.django_db
def test_cancel_between_chunks_leaves_the_catalogue_unchanged():
    Product.objects.create(sku="sku-1", name="Before")
    before = catalogue()
    data = b"sku,name\n" + "".join(f"sku-{n},Name {n}\n" for n in range(20_000)).encode()
    polls = []

    def should_cancel() -> bool:
        polls.append(True)
        return True

    with pytest.raises(ImportCancelled):
        run_import(source=io.BytesIO(data), options=ImportOptions(), should_cancel=should_cancel)

    assert polls  # asked between chunks, before reaching the merge
    assert catalogue() == before


@pytest.mark.django_db
def test_cancel_requested_late_still_stops_before_the_merge():
    Product.objects.create(sku="sku-1", name="Before")
    before = catalogue()
    data = b"sku,name\nsku-1,After\nsku-2,New\n"  # smaller than one chunk

    with pytest.raises(ImportCancelled):
        run_import(source=io.BytesIO(data), options=ImportOptions(), should_cancel=lambda: True)

    assert catalogue() == before
