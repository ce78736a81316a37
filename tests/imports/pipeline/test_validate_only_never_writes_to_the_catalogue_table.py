import datetime

import pytest
from django.db import connection

from products.models import Product

# The current transaction's attempted row writes on the table; PostgreSQL counts them
# whether or not the (sub)transaction that made them was later rolled back.
WRITES = """
SELECT pg_stat_get_xact_tuples_inserted(%s::regclass),
       pg_stat_get_xact_tuples_updated(%s::regclass),
       pg_stat_get_xact_tuples_deleted(%s::regclass)
"""

FILE = (
    "sku,name,description\n"
    "same,Same,d\n"  # unchanged (no active column: keeps active=False)
    "renamed,New name,d\n"  # updated
    "case,Case,d\n"  # updated: the sku's letter case changes
    "new-1,New,d\n"  # created
    "NEW-1,New later,d\n"  # the later record wins: still one created
    ",no sku,d\n"  # rejected
)


def _writes() -> tuple[int, int, int]:
    table = Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(WRITES, [table, table, table])
        return cursor.fetchone()


def _catalogue_rows() -> list[tuple]:
    """Every row with its physical identity (ctid, xmin) and values."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ctid::text, xmin::text, sku, name, description, active, updated_at "
            f"FROM {Product._meta.db_table} ORDER BY id"
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_validate_only_counts_without_inserting_or_updating_a_catalogue_row(import_bytes):
    Product.objects.create(sku="same", name="Same", description="d", active=False)
    Product.objects.create(sku="renamed", name="Old name", description="d")
    Product.objects.create(sku="CASE", name="Case", description="d")
    Product.objects.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    rows_before, writes_before = _catalogue_rows(), _writes()

    result = import_bytes(FILE, validate_only=True).result

    assert (result.created, result.updated, result.unchanged, result.rows_rejected) == (1, 2, 1, 1)
    # A merge rolled back afterwards would still show here as attempted inserts/updates.
    assert _writes() == writes_before
    assert _catalogue_rows() == rows_before


@pytest.mark.django_db
def test_validate_only_counts_equal_what_the_real_import_then_does(import_bytes):
    Product.objects.create(sku="same", name="Same", description="d", active=False)
    Product.objects.create(sku="renamed", name="Old name", description="d")
    Product.objects.create(sku="CASE", name="Case", description="d")

    dry = import_bytes(FILE, validate_only=True).result
    real = import_bytes(FILE).result

    counts = ("rows_read", "rows_valid", "rows_rejected", "created", "updated", "unchanged")
    assert [getattr(dry, name) for name in counts] == [getattr(real, name) for name in counts]
    assert (real.created, real.updated, real.unchanged) == (1, 2, 1)
    assert Product.objects.get(sku="NEW-1").name == "New later"
