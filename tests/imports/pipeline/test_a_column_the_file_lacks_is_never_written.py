"""A column the file does not have is never written: a file with only sku,name keeps every
description and active flag, whether the merge writes in place or rebuilds the catalogue,
and validate only counts the same way. A present column with an empty cell follows its rule
(imports.csv_records.COLUMNS): an empty description clears it, an empty active keeps it."""

import pytest

from products.models import Product
from tests.imports.pipeline.test_a_bulk_merge_rebuilds_the_catalogue_and_swaps_it_in import (
    table_oid,
)

pytestmark = pytest.mark.django_db


def _stored() -> dict[str, tuple]:
    return {p.sku: (p.name, p.description, p.active) for p in Product.objects.all()}


def _products(count: int) -> None:
    Product.objects.bulk_create(
        Product(sku=f"sku-{n}", name=f"Name {n}", description=f"Kept {n}", active=n % 2 == 0)
        for n in range(count)
    )


def test_a_file_without_description_keeps_descriptions_in_place(import_bytes):
    _products(3)

    result = import_bytes("sku,name\nsku-0,Renamed 0\nsku-1,Name 1\nnew-1,New\n").result

    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert _stored() == {
        "sku-0": ("Renamed 0", "Kept 0", True),
        "sku-1": ("Name 1", "Kept 1", False),
        "sku-2": ("Name 2", "Kept 2", True),
        "new-1": ("New", "", True),
    }


def test_validate_only_counts_a_file_without_description_the_same_way(import_bytes):
    _products(3)

    result = import_bytes("sku,name\nsku-0,Renamed 0\nsku-1,Name 1\n", validate_only=True).result

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)


def test_a_file_without_description_keeps_descriptions_through_a_rebuild(import_bytes, settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    _products(100)
    before_oid = table_oid()
    body = "".join(f"sku-{n},Renamed {n}\n" for n in range(100))

    result = import_bytes(f"sku,name\n{body}").result

    assert (result.created, result.updated, result.unchanged) == (0, 100, 0)
    assert table_oid() != before_oid  # the rebuild road was taken
    stored = _stored()
    assert stored["sku-7"] == ("Renamed 7", "Kept 7", False)
    assert {sku: d for sku, (_, d, _) in stored.items()} == {
        f"sku-{n}": f"Kept {n}" for n in range(100)
    }


def test_an_empty_description_cell_clears_it_and_an_empty_active_cell_keeps_the_flag(
    import_bytes,
):
    _products(2)

    result = import_bytes("sku,name,description,active\nsku-1,Name 1,,\n").result

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert _stored()["sku-1"] == ("Name 1", "", False)
