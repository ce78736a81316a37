import io
import threading
import time

import pytest
from django.db import connection, transaction

from imports.pipeline import ImportOptions, run_import
from products.models import Product

WAITING_FOR_A_TRANSACTION = """
SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted
"""


@pytest.mark.django_db(transaction=True)
def test_a_product_created_outside_the_merge_lock_meanwhile_is_updated_not_duplicated():
    outcome = {}

    def import_in_another_connection():
        try:
            outcome["result"] = run_import(
                source=io.BytesIO(b"sku,name\nnew-1,New\nRACE,From the import\n"),
                options=ImportOptions(),
            )
        finally:
            connection.close()

    # A page creates "race" in a transaction that is still open while the import merges:
    # the import's plain INSERT waits on it, fails on the unique index once it commits,
    # and the merge redoes the insert as INSERT ... ON CONFLICT DO UPDATE.
    with transaction.atomic(), connection.cursor() as cursor:
        Product.objects.create(sku="race", name="From a page")
        importer = threading.Thread(target=import_in_another_connection)
        importer.start()
        deadline = time.monotonic() + 20
        while True:
            cursor.execute(WAITING_FOR_A_TRANSACTION)
            if cursor.fetchone()[0]:
                break
            assert time.monotonic() < deadline, "the import never waited on the open insert"
            time.sleep(0.02)
    importer.join(timeout=30)

    result = outcome["result"]
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert dict(Product.objects.values_list("sku", "name")) == {
        "new-1": "New",
        "RACE": "From the import",
    }
