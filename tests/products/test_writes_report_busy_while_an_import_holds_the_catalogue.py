"""A bulk import holds catalogue writes off until it commits (imports.rebuild). A product
write meanwhile gives up after a short lock timeout with a clear message (409 in the API, a
message on the pages) instead of hanging the request, and goes through once it is over."""

import threading
from contextlib import contextmanager

import pytest
from django.db import connections, transaction
from rest_framework.test import APIClient

from products import services
from products.models import Product


@contextmanager
def catalogue_held_by_an_import():
    """A second connection holding the SHARE lock a bulk import's merge takes."""
    holding = threading.Event()
    release = threading.Event()

    def merge() -> None:
        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                cursor.execute("LOCK TABLE products_product IN SHARE MODE")
                holding.set()
                release.wait(20)
        finally:
            holding.set()
            connections.close_all()

    thread = threading.Thread(target=merge)
    thread.start()
    assert holding.wait(20)
    try:
        yield release
    finally:
        release.set()
        thread.join(20)


@pytest.mark.django_db(transaction=True)
def test_a_product_write_during_a_bulk_import_reports_busy_then_succeeds_after(
    monkeypatch, staff_user, make_product
):
    monkeypatch.setattr(services, "WRITE_LOCK_TIMEOUT", "200ms")
    product = make_product("HELD-1")
    client = APIClient()
    client.force_authenticate(staff_user)

    with catalogue_held_by_an_import() as release:
        with pytest.raises(services.CatalogueBusy, match="import is being merged"):
            services.product_update(product=Product.objects.get(pk=product.pk), name="Changed")
        patch = client.patch(f"/api/products/{product.pk}/", {"name": "Changed"}, format="json")
        delete = client.delete(f"/api/products/{product.pk}/")
        release.set()

    assert patch.status_code == 409, patch.content
    assert "import is being merged" in patch.json()["detail"]
    assert delete.status_code == 409
    assert Product.objects.get(pk=product.pk).name == product.name

    services.product_update(product=Product.objects.get(pk=product.pk), name="Changed")
    assert Product.objects.get(pk=product.pk).name == "Changed"


@pytest.mark.django_db(transaction=True)
def test_the_list_page_toggle_reports_busy_as_json(monkeypatch, staff_user, make_product, client):
    monkeypatch.setattr(services, "WRITE_LOCK_TIMEOUT", "200ms")
    product = make_product("HELD-2")
    client.force_login(staff_user)

    with catalogue_held_by_an_import():
        response = client.post(
            f"/products/{product.pk}/active/",
            {"active": "false"},
            headers={"accept": "application/json"},
        )

    assert response.status_code == 409
    assert "import is being merged" in response.json()["message"]
    assert Product.objects.get(pk=product.pk).active


@pytest.mark.django_db(transaction=True)
def test_an_admin_edit_during_a_bulk_import_shows_busy_instead_of_failing(
    monkeypatch, make_product, client
):
    from django.contrib.auth.models import User

    monkeypatch.setattr(services, "WRITE_LOCK_TIMEOUT", "200ms")
    product = make_product("HELD-3")
    admin_user = User.objects.create_superuser("boss", password="pw-for-tests-only")
    client.force_login(admin_user)
    url = f"/admin/products/product/{product.pk}/change/"
    form = {"sku": product.sku, "name": "Changed", "description": "", "active": "on"}

    with catalogue_held_by_an_import():
        response = client.post(url, form, follow=True)

    assert response.status_code == 200
    assert "import is being merged" in response.content.decode()
    assert Product.objects.get(pk=product.pk).name == product.name
