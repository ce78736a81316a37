import pytest

from imports.pipeline import ImportOptions, run_import
from products.models import Product


@pytest.mark.django_db
def test_sample_file_imports_1998_products(sample_csv):
    with sample_csv.open("rb") as source:
        result = run_import(source=source, options=ImportOptions())

    assert (result.rows_read, result.rows_valid, result.rows_rejected) == (2000, 2000, 0)
    assert (result.created, result.updated, result.unchanged) == (1998, 0, 0)
    assert Product.objects.count() == 1998
    # A multi-line quoted description arrives whole.
    assert "\n" in Product.objects.get(sku="step-onto").description
    assert set(result.durations) == {"parsing", "validating", "loading", "merging"}


@pytest.mark.django_db
def test_sample_file_imported_twice_leaves_everything_unchanged(sample_csv):
    with sample_csv.open("rb") as source:
        run_import(source=source, options=ImportOptions())
    with sample_csv.open("rb") as source:
        result = run_import(source=source, options=ImportOptions())

    assert (result.created, result.updated, result.unchanged) == (0, 0, 1998)
