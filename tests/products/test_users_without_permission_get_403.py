import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient


@pytest.fixture
def product(make_product):
    return make_product("PERM-1")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/products/"),
        ("get", "/products/export.csv"),
        ("get", "/products/new/"),
        ("post", "/products/new/"),
        ("get", "/products/{pk}/edit/"),
        ("post", "/products/{pk}/active/"),
        ("post", "/products/{pk}/delete/"),
        ("post", "/products/delete-all/"),
    ],
)
def test_pages_answer_403_without_model_permissions(viewer_client, product, method, path):
    response = getattr(viewer_client, method)(path.format(pk=product.pk))

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/products/"),
        ("get", "/api/products/{pk}/"),
        ("post", "/api/products/"),
        ("patch", "/api/products/{pk}/"),
        ("delete", "/api/products/{pk}/"),
        ("post", "/api/products/delete-all/"),
    ],
)
def test_api_answers_403_without_model_permissions(viewer_user, product, method, path):
    client = APIClient()
    client.force_authenticate(viewer_user)

    response = getattr(client, method)(path.format(pk=product.pk), {"confirm": True}, format="json")

    assert response.status_code == 403
    assert product.__class__.objects.filter(pk=product.pk).exists()


def test_api_answers_401_or_403_without_login(product):
    response = APIClient().get("/api/products/")

    assert response.status_code in (401, 403)


def test_delete_all_needs_the_delete_permission_even_with_the_others(viewer_user, product):
    viewer_user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_product", "add_product", "change_product"])
    )
    client = APIClient()
    client.force_authenticate(viewer_user)

    assert client.get("/api/products/").status_code == 200
    response = client.post("/api/products/delete-all/", {"confirm": True}, format="json")

    assert response.status_code == 403
    assert product.__class__.objects.count() == 1
