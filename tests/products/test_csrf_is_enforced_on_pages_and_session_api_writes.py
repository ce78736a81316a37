import pytest
from django.test import Client

from products.models import Product


@pytest.fixture
def csrf_client(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client


def csrf_token(client) -> str:
    client.get("/products/")
    return client.cookies["csrftoken"].value


def test_page_posts_without_the_token_are_refused(csrf_client, make_product):
    product = make_product("CSRF-1")

    assert csrf_client.post("/products/new/", {"sku": "x", "name": "y"}).status_code == 403
    assert csrf_client.post(f"/products/{product.pk}/delete/").status_code == 403
    assert csrf_client.post("/products/delete-all/", {"confirm": "DELETE"}).status_code == 403
    assert Product.objects.count() == 1


def test_page_posts_with_the_token_are_accepted(csrf_client):
    token = csrf_token(csrf_client)

    response = csrf_client.post(
        "/products/new/", {"sku": "ok-1", "name": "Fine", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert Product.objects.filter(sku="ok-1").exists()


def test_session_authenticated_api_writes_need_the_token(csrf_client, make_product):
    product = make_product("CSRF-API")

    refused = csrf_client.post(
        "/api/products/", {"sku": "api-x", "name": "X"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    refused = csrf_client.post(
        "/api/products/delete-all/", {"confirm": True}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()

    token = csrf_token(csrf_client)
    accepted = csrf_client.post(
        "/api/products/",
        {"sku": "api-x", "name": "X"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 201
