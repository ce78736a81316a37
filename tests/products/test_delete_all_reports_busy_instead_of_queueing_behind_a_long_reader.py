"""Delete-all needs TRUNCATE's exclusive lock. Behind a long reader (an export, an import merge)
it gives up after a short lock timeout with a clear message, instead of making every other
page queue behind its lock request."""

import threading

import pytest
from django.db import connections, transaction
from rest_framework.test import APIClient

from products import services
from products.models import Product


@pytest.mark.django_db(transaction=True)
def test_delete_all_reports_busy_while_another_transaction_reads_products(
    monkeypatch, staff_user, make_product
):
    monkeypatch.setattr(services, "DELETE_ALL_LOCK_TIMEOUT", "200ms")
    make_product("BUSY-1")
    reading = threading.Event()
    release = threading.Event()

    def long_reader() -> None:
        try:
            with transaction.atomic():
                list(Product.objects.all())  # holds ACCESS SHARE until the transaction ends
                reading.set()
                release.wait(20)
        finally:
            reading.set()
            connections.close_all()

    reader = threading.Thread(target=long_reader)
    reader.start()
    try:
        assert reading.wait(20)
        client = APIClient()
        client.force_authenticate(staff_user)
        response = client.post("/api/products/delete-all/", {"confirm": True}, format="json")
    finally:
        release.set()
        reader.join(20)

    assert response.status_code == 409
    assert "busy" in response.json()["detail"]
    assert Product.objects.count() == 1

    assert services.products_delete_all() == 1
