"""A first load drops the GIN (trigram) indexes, writes, and builds them again; a merge into
a populated catalogue maintains them. Either way the indexes end as the migrations made them."""

import pytest
from django.db import DatabaseError, connection

from products.models import Product
from tests.imports.pipeline.test_failure_mid_merge_leaves_catalogue_unchanged import (
    EXPLODE_ON_SKU,
)

GIN_INDEXES = """
SELECT c.relname, c.oid, pg_get_indexdef(c.oid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE i.indrelid = 'products_product'::regclass AND a.amname = 'gin'
ORDER BY c.relname
"""


def gin_indexes() -> dict[str, tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(GIN_INDEXES)
        return {name: (oid, definition) for name, oid, definition in cursor.fetchall()}


def csv_of(count: int, prefix: str = "sku") -> str:
    return "sku,name,description\n" + "".join(
        f"{prefix}-{n},Name {n},Blue widget number {n}\n" for n in range(count)
    )


@pytest.fixture
def first_load_at_50_rows(settings):
    settings.IMPORT_FIRST_LOAD_MIN_ROWS = 50


@pytest.mark.django_db
@pytest.mark.usefixtures("first_load_at_50_rows")
def test_a_first_load_rebuilds_the_gin_indexes_with_their_definitions(import_bytes):
    before = gin_indexes()
    assert len(before) == 3

    result = import_bytes(csv_of(200)).result

    after = gin_indexes()
    assert result.created == 200
    assert {name: d for name, (_, d) in after.items()} == {n: d for n, (_, d) in before.items()}
    # New index objects: dropped and built again, not maintained.
    assert all(after[name][0] != before[name][0] for name in before)
    # And they serve the search on what was just loaded.
    assert Product.objects.filter(description__contains="number 123").count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("first_load_at_50_rows")
def test_a_merge_into_a_populated_catalogue_keeps_the_indexes(import_bytes):
    import_bytes(csv_of(200, prefix="old"))
    before = gin_indexes()

    import_bytes(csv_of(60, prefix="new"))  # 60 new SKUs, catalogue of 200: not a first load

    assert gin_indexes() == before


@pytest.mark.django_db
@pytest.mark.usefixtures("first_load_at_50_rows")
def test_a_first_load_failing_mid_merge_leaves_the_indexes_as_they_were(import_bytes):
    before = gin_indexes()
    with connection.cursor() as cursor:
        cursor.execute(EXPLODE_ON_SKU)

    with pytest.raises(DatabaseError, match="provoked failure"):
        import_bytes(csv_of(200) + "explodes,Boom,\n")

    assert gin_indexes() == before
    assert Product.objects.count() == 0
