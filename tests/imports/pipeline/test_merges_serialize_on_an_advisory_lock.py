import io
import threading

import pytest
from django.db import connection, transaction

from imports.merge import MERGE_LOCK_KEY
from imports.pipeline import ImportOptions, run_import
from products.models import Product
from tests.support.waiting import wait_until

WAITING_FOR_MERGE_LOCK = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND NOT granted
  AND ((classid::bigint << 32) | objid::bigint) = %s
"""


@pytest.mark.django_db(transaction=True)
def test_an_import_waits_for_the_merge_lock_held_by_another_merge():
    outcome = {}

    def import_in_another_connection():
        try:
            outcome["result"] = run_import(
                source=io.BytesIO(b"sku,name\nshared,From the second import\n"),
                options=ImportOptions(),
            )
        finally:
            connection.close()

    # This transaction plays an import that is merging: it holds the merge lock.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK_KEY])
        Product.objects.create(sku="shared", name="From the first import")
        second = threading.Thread(target=import_in_another_connection)
        second.start()

        def second_is_waiting() -> bool:
            cursor.execute(WAITING_FOR_MERGE_LOCK, [MERGE_LOCK_KEY])
            return cursor.fetchone()[0] == 1

        wait_until(
            second_is_waiting,
            timeout=20,
            every=0.01,
            what="the second import to wait for the merge lock",
        )
    second.join(timeout=30)

    # The later merge ran after the first committed, saw its product, and won.
    assert outcome["result"].updated == 1
    assert Product.objects.get().name == "From the second import"
