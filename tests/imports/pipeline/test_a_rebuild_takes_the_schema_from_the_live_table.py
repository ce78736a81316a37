"""The bulk rebuild takes the catalogue's schema from the live table itself, not from a list
of today's columns: a column a later migration adds (with its default, its NOT NULL, an
outgoing foreign key) keeps every product's value through a big import, new products get
its default; and a CREATE INDEX another connection runs while the rebuild works either
waits for it or survives the swap (it waits: the rebuild keeps DDL out until it commits)."""

import io
import threading

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from imports.pipeline import ImportOptions, run_import
from products.models import Product
from tests.imports.pipeline.test_a_bulk_merge_rebuilds_the_catalogue_and_swaps_it_in import (
    csv_of,
    schema,
    table_oid,
)
from tests.support.waiting import wait_until
from tests.support.worker import database_url_for_subprocess

CONCURRENT_INDEX = "product_made_concurrently"


@pytest.fixture(autouse=True)
def rebuild_from_50_rows(settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 50


def _run(data: str, **kwargs):
    return run_import(source=io.BytesIO(data.encode()), options=ImportOptions(), **kwargs)


@pytest.mark.django_db
def test_a_column_added_by_a_migration_keeps_its_values_through_a_rebuild():
    _run(csv_of(100))
    with connection.cursor() as cursor:
        # What a migration adding a graded, supplied product would run.
        cursor.execute("CREATE TABLE test_supplier (id bigint PRIMARY KEY)")
        cursor.execute("INSERT INTO test_supplier VALUES (1), (2)")
        cursor.execute("ALTER TABLE products_product ADD COLUMN grade text NOT NULL DEFAULT 'B'")
        cursor.execute(
            "ALTER TABLE products_product ADD COLUMN supplier_id bigint DEFAULT 1 "
            "CONSTRAINT product_supplier_fk REFERENCES test_supplier (id)"
        )
        cursor.execute("UPDATE products_product SET grade = 'A-' || id, supplier_id = 2")
        cursor.execute("SELECT id, grade FROM products_product")
        grades = dict(cursor.fetchall())
    before_schema, before_oid = schema(), table_oid()

    result = _run(csv_of(200, label="Changed"))  # 100 changed, 100 new: a rebuild

    assert (result.created, result.updated) == (100, 100)
    assert table_oid() != before_oid
    assert schema() == before_schema  # the new column, its default and the foreign key
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, grade, supplier_id FROM products_product ORDER BY id")
        rows = cursor.fetchall()
    assert {i: grade for i, grade, _ in rows if i in grades} == grades
    assert {(grade, supplier) for i, grade, supplier in rows if i not in grades} == {("B", 1)}
    assert {supplier for i, _, supplier in rows if i in grades} == {2}
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE products_product SET supplier_id = 99")  # still enforced


@pytest.mark.django_db(transaction=True)
def test_a_create_index_during_the_rebuild_waits_and_survives_the_swap():
    _run(csv_of(100))
    url = database_url_for_subprocess().replace("postgres://", "postgresql://", 1)
    outcome: dict = {}

    def create_index() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as other:
                outcome["pid"] = other.info.backend_pid
                other.execute(f"CREATE INDEX {CONCURRENT_INDEX} ON products_product (active)")
            outcome["done"] = True
        except Exception as error:  # noqa: BLE001 - asserted below
            outcome["error"] = error

    def index_waits_or_is_done() -> bool:
        if "done" in outcome or "error" in outcome:
            return True
        if "pid" not in outcome:
            return False
        with psycopg.connect(url, autocommit=True) as watcher:
            row = watcher.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [outcome["pid"]]
            ).fetchone()
        return bool(row) and row[0] == "Lock"

    builder = threading.Thread(target=create_index)

    def on_progress(update) -> None:
        # The rebuild has read the live table's catalog and is writing the new table.
        if (
            update.step
            and update.step.startswith("writing the merged catalogue")
            and not (builder.is_alive() or outcome)
        ):
            builder.start()
            wait_until(index_waits_or_is_done, timeout=30, what="the CREATE INDEX to run")

    try:
        result = _run(csv_of(200, label="Changed"), on_progress=on_progress)
        builder.join(60)

        assert result.updated == 100
        assert outcome.get("done"), outcome
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'products_product' "
                "AND indexname = %s",
                [CONCURRENT_INDEX],
            )
            assert cursor.fetchone()[0] == 1
        assert Product.objects.filter(active=True).count() == 200
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {CONCURRENT_INDEX}")
