"""An import writing a large share of the catalogue builds the merged catalogue in a new
table with fresh indexes and swaps it in (imports.rebuild); smaller ones write in place.
Either way the catalogue ends with the same schema, ids and counts."""

import datetime

import pytest
from django.db import DatabaseError, connection

from imports.rebuild import NEXT_TABLE, rebuild_blockers
from products import services
from products.models import Product
from tests.imports.pipeline.conftest import catalogue
from tests.imports.pipeline.test_failure_mid_merge_leaves_catalogue_unchanged import (
    EXPLODE_ON_SKU,
)

SCHEMA = """
SELECT 'index', c.relname, pg_get_indexdef(c.oid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'products_product'::regclass
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'products_product'::regclass AND contype <> 'n'
UNION ALL
SELECT 'column', attname, format_type(atttypid, atttypmod) || ' ' || attnotnull || ' '
       || attidentity::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = 'products_product'::regclass AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'sequence', pg_get_serial_sequence('products_product', 'id'), ''
ORDER BY 1, 2
"""


def schema() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(SCHEMA)
        return cursor.fetchall()


def table_oid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'products_product'::regclass::oid")
        return cursor.fetchone()[0]


def next_table_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [NEXT_TABLE])
        return cursor.fetchone()[0] is not None


def csv_of(count: int, prefix: str = "sku", label: str = "Name") -> str:
    return "sku,name,description\n" + "".join(
        f"{prefix}-{n},{label} {n},Blue widget number {n}\n" for n in range(count)
    )


@pytest.fixture(autouse=True)
def rebuild_from_50_rows(settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 50


@pytest.mark.django_db
def test_a_first_load_builds_a_new_table_with_the_same_schema(import_bytes):
    before_schema, before_oid = schema(), table_oid()

    result = import_bytes(csv_of(200)).result

    assert (result.created, result.updated, result.unchanged) == (200, 0, 0)
    assert table_oid() != before_oid  # built and swapped in, not written in place
    assert schema() == before_schema  # every index, constraint, column and the sequence
    assert not next_table_exists()
    # Ids follow the file's order, and the sequence continues after them.
    ids = dict(Product.objects.values_list("sku", "id"))
    assert ids["sku-0"] < ids["sku-1"] < ids["sku-199"]
    later = services.product_create(sku="later", name="Later")
    assert later.id > max(ids.values())
    # The rebuilt trigram index serves the search on what was just loaded.
    assert Product.objects.filter(description__contains="number 123").count() == 1


@pytest.mark.django_db
def test_a_re_import_changing_most_rows_keeps_ids_and_untouched_rows(import_bytes):
    import_bytes(csv_of(200))
    Product.objects.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    ids = dict(Product.objects.values_list("sku", "id"))
    created_at = dict(Product.objects.values_list("sku", "created_at"))
    before_oid = table_oid()
    # 150 of 200 rows change (75% >= REBUILD_MIN_SHARE), 50 stay, 10 are new.
    changed = "".join(f"sku-{n},Renamed {n},Blue widget number {n}\n" for n in range(150))
    same = "".join(f"SKU-{n},Name {n},Blue widget number {n}\n" for n in range(150, 200))
    same = same.replace("SKU-", "sku-")
    new = "".join(f"new-{n},New {n},\n" for n in range(10))

    result = import_bytes(f"sku,name,description\n{changed}{same}{new}").result

    assert (result.created, result.updated, result.unchanged) == (10, 150, 50)
    assert table_oid() != before_oid
    after = catalogue()
    assert len(after) == 210
    assert after["sku-3"][0] == "Renamed 3" and after["sku-3"][3].year != 2020
    assert after["sku-170"][0] == "Name 170" and after["sku-170"][3].year == 2020
    assert {sku: i for sku, i in Product.objects.values_list("sku", "id") if sku in ids} == ids
    assert {
        sku: c for sku, c in Product.objects.values_list("sku", "created_at") if sku in ids
    } == created_at


@pytest.mark.django_db
def test_an_import_changing_a_small_share_writes_in_place(import_bytes):
    import_bytes(csv_of(200, prefix="old"))
    before_oid = table_oid()

    result = import_bytes(csv_of(60, prefix="new")).result  # 60 of 260: under the share

    assert result.created == 60
    assert table_oid() == before_oid


@pytest.mark.django_db
def test_a_rebuild_failing_midway_leaves_the_catalogue_and_schema_as_they_were(import_bytes):
    import_bytes(csv_of(100))
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE products_product ADD CONSTRAINT no_explosions CHECK (sku <> 'explodes')"
        )
    before, before_schema, before_oid = catalogue(), schema(), table_oid()

    with pytest.raises(DatabaseError, match="no_explosions"):
        import_bytes(csv_of(200, label="Changed") + "explodes,Boom,\n")

    assert catalogue() == before
    assert schema() == before_schema
    assert table_oid() == before_oid
    assert not next_table_exists()


@pytest.mark.django_db
def test_a_table_with_triggers_is_merged_in_place(import_bytes):
    with connection.cursor() as cursor:
        cursor.execute(EXPLODE_ON_SKU)
        assert rebuild_blockers(cursor) == ["it has triggers"]
    before_oid = table_oid()

    result = import_bytes(csv_of(200)).result

    assert result.created == 200
    assert table_oid() == before_oid
