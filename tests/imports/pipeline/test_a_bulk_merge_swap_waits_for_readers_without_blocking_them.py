"""The rebuild's swap needs ACCESS EXCLUSIVE on the catalogue. Behind a long reader it asks
with a short lock_timeout and steps aside between attempts, so other readers keep being
served (the old catalogue) while it waits; once the reader is done, the import commits."""

import io
import threading

import pytest
from django.db import connection, connections, transaction

from imports import rebuild
from imports.pipeline import ImportOptions, run_import
from products.models import Product
from tests.support.waiting import wait_until

SWAP_WAITING = """
SELECT count(*) FROM pg_locks
WHERE relation = 'products_product'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted
"""


def csv_of(count: int, label: str) -> bytes:
    return ("sku,name\n" + "".join(f"sku-{n},{label} {n}\n" for n in range(count))).encode()


@pytest.mark.django_db(transaction=True)
def test_the_swap_waits_for_a_long_reader_while_other_readers_are_served(monkeypatch, settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    monkeypatch.setattr(rebuild, "SWAP_LOCK_TIMEOUT", "300ms")
    monkeypatch.setattr(rebuild, "SWAP_RETRY_PAUSE_SECONDS", 0.05)
    run_import(source=io.BytesIO(csv_of(100, "Old")), options=ImportOptions())
    reading, release = threading.Event(), threading.Event()
    outcome = {}

    def long_reader() -> None:
        try:
            with transaction.atomic():
                outcome["first read"] = Product.objects.filter(name__startswith="Old").count()
                reading.set()
                release.wait(30)
        finally:
            reading.set()
            connections.close_all()

    def bulk_import() -> None:
        try:
            outcome["result"] = run_import(
                source=io.BytesIO(csv_of(100, "New")), options=ImportOptions()
            )
        finally:
            connections.close_all()

    reader = threading.Thread(target=long_reader)
    reader.start()
    assert reading.wait(20)
    importer = threading.Thread(target=bulk_import)
    importer.start()
    try:

        def swap_is_waiting() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(SWAP_WAITING)
                return cursor.fetchone()[0] == 1

        wait_until(swap_is_waiting, timeout=20, every=0.01, what="the swap to wait for the reader")
        # Another reader is served, the old catalogue, while the swap waits for the first.
        for _ in range(3):
            assert Product.objects.filter(name__startswith="Old").count() == 100
        assert importer.is_alive()
    finally:
        release.set()
        reader.join(20)
        importer.join(60)

    assert outcome["first read"] == 100
    assert outcome["result"].updated == 100
    assert Product.objects.filter(name__startswith="New").count() == 100
