"""Two bulk imports of the same SKUs at once: both take the rebuild road; their merges
serialize on the merge lock, neither deadlocks, and the one that merges second wins whole."""

import io
import threading

import pytest
from django.db import connections

from imports.pipeline import ImportOptions, run_import
from products.models import Product


def csv_of(label: str) -> bytes:
    return ("sku,name\n" + "".join(f"SKU-{n},{label} {n}\n" for n in range(300))).encode()


@pytest.mark.django_db(transaction=True)
def test_two_bulk_imports_of_the_same_skus_serialize_and_the_later_merge_wins(settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    results, errors = {}, []

    def run(label: str) -> None:
        try:
            results[label] = run_import(source=io.BytesIO(csv_of(label)), options=ImportOptions())
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(label,)) for label in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    names = {name.split()[0] for name in Product.objects.values_list("name", flat=True)}
    assert Product.objects.count() == 300 and len(names) == 1
    (winner,) = names
    loser = "Second" if winner == "First" else "First"
    assert (results[loser].created, results[loser].updated) == (300, 0)
    assert (results[winner].created, results[winner].updated) == (0, 300)
