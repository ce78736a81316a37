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


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cancel_at",
    ["building index 3 of", "switching to the new catalogue", "adding 200 new products"],
)
def test_cancel_during_the_merge_stops_at_the_next_step_and_changes_nothing(settings, cancel_at):
    # 200 new rows into 1,000: under the rebuild share, so merged in place ("adding ...");
    # into an empty catalogue: rebuilt ("building index ...", "switching ...").
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    in_place = cancel_at.startswith("adding")
    if in_place:
        Product.objects.bulk_create(Product(sku=f"old-{n}", name="Old") for n in range(1000))
    before = catalogue()
    data = b"sku,name\n" + "".join(f"new-{n},New {n}\n" for n in range(200)).encode()
    steps = []

    def should_cancel() -> bool:
        return bool(steps) and steps[-1].startswith(cancel_at)

    with pytest.raises(ImportCancelled):
        run_import(
            source=io.BytesIO(data),
            options=ImportOptions(),
            on_progress=lambda p: p.step and steps.append(p.step),
            should_cancel=should_cancel,
        )

    assert steps[-1].startswith(cancel_at)
    assert catalogue() == before
