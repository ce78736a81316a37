"""A small import merges in place without locking the catalogue against page writes. The
values its change set records as `before` are the ones its UPDATE overwrote: a page that
changed the product after the import compared it, and before the UPDATE, is what the change
set shows (the rows are locked as they are recorded), not the value the import first saw."""

import io
import threading
import time

import pytest
from django.db import connection, transaction

from imports.models import ImportChange, ImportJob
from imports.pipeline import ImportOptions, run_import
from products.models import Product

WAITING_FOR_A_TRANSACTION = """
SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted
"""


@pytest.mark.django_db(transaction=True)
def test_before_is_what_the_update_overwrote():
    Product.objects.create(sku="LAMP", name="Lamp", description="Warm")
    job = ImportJob.objects.create(original_name="p.csv", size=1)
    outcome = {}

    def import_in_another_connection():
        try:
            outcome["result"] = run_import(
                source=io.BytesIO(b"sku,name\nLAMP,From the file\n"),
                options=ImportOptions(),
                job_id=job.pk,
            )
        finally:
            connection.close()

    # A page's edit is open while the import merges: the import waits for its row, then
    # overwrites what the page committed.
    with transaction.atomic(), connection.cursor() as cursor:
        Product.objects.filter(sku="LAMP").update(name="From a page")
        importer = threading.Thread(target=import_in_another_connection)
        importer.start()
        deadline = time.monotonic() + 20
        while True:
            cursor.execute(WAITING_FOR_A_TRANSACTION)
            if cursor.fetchone()[0]:
                break
            assert time.monotonic() < deadline, "the import never waited on the page's edit"
            time.sleep(0.02)
    importer.join(timeout=30)

    assert outcome["result"].updated == 1
    change = ImportChange.objects.get(job=job)
    assert (change.before, change.after) == ({"name": "From a page"}, {"name": "From the file"})
    assert Product.objects.get(sku="LAMP").name == "From the file"
