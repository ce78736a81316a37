"""Two connections create `race-sku` and `RACE-SKU` at the same moment: one wins, the other
gets ProductSkuTaken (never an IntegrityError/500). The second insert is made to really wait
on the first one's uncommitted row in the unique lower(sku) index before the first commits."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from products import services
from products.models import Product

TIMEOUT_SECONDS = 20


def wait_until_backend_waits_on_a_lock(backend_pid: int) -> None:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [backend_pid]
            )
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError("the second create never waited on the first one's row")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_same_sku_in_other_case_let_one_win():
    first_inserted = threading.Event()
    second_pid: list[int] = []
    second_ready = threading.Event()
    allow_first_commit = threading.Event()
    outcomes: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                outcomes["first"] = services.product_create(sku="race-sku", name="First")
                first_inserted.set()
                allow_first_commit.wait(TIMEOUT_SECONDS)
        except Exception as error:  # recorded for the assertion below
            outcomes["first"] = error
        finally:
            first_inserted.set()
            connections.close_all()

    def second() -> None:
        try:
            first_inserted.wait(TIMEOUT_SECONDS)
            connection.ensure_connection()
            second_pid.append(connection.connection.info.backend_pid)
            second_ready.set()
            outcomes["second"] = services.product_create(sku="RACE-SKU", name="Second")
        except Exception as error:
            outcomes["second"] = error
        finally:
            second_ready.set()
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert second_ready.wait(TIMEOUT_SECONDS)
        wait_until_backend_waits_on_a_lock(second_pid[0])
    finally:
        allow_first_commit.set()
        for thread in threads:
            thread.join(TIMEOUT_SECONDS)

    assert isinstance(outcomes["first"], Product)
    assert isinstance(outcomes["second"], services.ProductSkuTaken), outcomes["second"]
    assert list(Product.objects.values_list("sku", flat=True)) == ["race-sku"]
